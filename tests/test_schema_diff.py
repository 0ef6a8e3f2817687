"""graphql-inspector's diff of the committed schema.graphql at the base commit (the merge
base with main on a branch; the previous commit on main itself; SCHEMA_BASE when set)
against the schema the code builds now. A breaking change fails unless schema-changes.md
lists it, word for word, as a line "- <change>" under an entry saying why
(docs/development.md, "Schema checks")."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from schema.root import schema
from tests import node_tools

ROOT = Path(__file__).parent.parent
ACKNOWLEDGED = ROOT / "schema-changes.md"
INSPECTOR = node_tools.bin_path("@graphql-inspector/cli", "cjs/index.js")
REPORTER = str(node_tools.TOOLS / "diff-report.cjs")


def _git(*args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def base_commit() -> str:
    """The commit whose schema.graphql this checkout's changes are measured against."""
    explicit = os.environ.get("SCHEMA_BASE")
    if explicit:
        found = _git("rev-parse", "--verify", f"{explicit}^{{commit}}")
        if found is None:
            pytest.fail(f"SCHEMA_BASE={explicit} names no commit here", pytrace=False)
        return found
    head = _git("rev-parse", "HEAD")
    if head is None:
        pytest.fail("the schema diff needs the git history (or SCHEMA_BASE)", pytrace=False)
    for branch in ("main", "origin/main"):
        merge_base = _git("merge-base", "HEAD", branch)
        if merge_base is not None and merge_base != head:
            return merge_base
    previous = _git("rev-parse", "--verify", "HEAD~1^{commit}")
    if previous is None:
        pytest.fail("no previous commit: fetch more history or set SCHEMA_BASE", pytrace=False)
    return previous


def changes(old_sdl: str, new_sdl: str, tmp_path: Path) -> dict[str, list[str]]:
    """graphql-inspector's changes from old to new: {breaking, dangerous, safe}."""
    old, new, report = tmp_path / "old.graphql", tmp_path / "new.graphql", tmp_path / "r.json"
    old.write_text(old_sdl)
    new.write_text(new_sdl)
    report.unlink(missing_ok=True)
    done = node_tools.run(
        INSPECTOR,
        "diff",
        str(old),
        str(new),
        "--onComplete",
        REPORTER,
        env={"SCHEMA_DIFF_REPORT": str(report)},  # where diff-report.cjs writes
    )
    assert done.returncode == 0, done.stdout + done.stderr
    if not report.exists():  # the handler runs only when something changed
        assert "No changes detected" in done.stdout, done.stdout
        return {"breaking": [], "dangerous": [], "safe": []}
    return json.loads(report.read_text())


def unacknowledged(breaking: list[str], acknowledged: str) -> list[str]:
    listed = {line[2:].strip() for line in acknowledged.splitlines() if line.startswith("- ")}
    return [change for change in breaking if change not in listed]


def test_no_unacknowledged_breaking_change_since_the_base(tmp_path: Path):
    base = base_commit()
    committed = _git("show", f"{base}:schema.graphql")
    assert committed is not None, f"{base} has no schema.graphql"
    found = changes(committed + "\n", schema.as_str() + "\n", tmp_path)
    missing = unacknowledged(found["breaking"], ACKNOWLEDGED.read_text())
    assert missing == [], (
        f"breaking schema changes since {base[:10]}, not listed in schema-changes.md "
        f"(all changes: {json.dumps(found, indent=1)})"
    )


def test_a_breaking_change_is_found_and_needs_its_line(tmp_path: Path):
    # The check above must be able to fail: a removed field is breaking, and only its
    # own line acknowledges it.
    sdl = schema.as_str()
    field = re.compile(r'  """[^"]*"""\n  signedOut: Boolean!\n\n?')  # with its description
    assert len(field.findall(sdl)) == 1
    found = changes(sdl, field.sub("", sdl), tmp_path)
    removed = "Field 'signedOut' was removed from object type 'SignOutPayload'"
    assert found["breaking"] == [removed]
    assert unacknowledged(found["breaking"], "- Type 'Other' was removed\n") == [removed]
    assert unacknowledged(found["breaking"], f"## Why\n- {removed}\n") == []
