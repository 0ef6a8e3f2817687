"""graphql-schema-linter, with the rules of tools/graphql/graphql-schema-linter.config.js,
on the schema the code builds: any finding fails."""

from __future__ import annotations

import json
from pathlib import Path

from schema.root import schema
from tests import node_tools

LINTER = node_tools.bin_path("graphql-schema-linter", "lib/cli.js")


def lint(sdl: str, tmp_path: Path) -> list[str]:
    """The linter's findings on `sdl`, as "rule: message" lines."""
    path = tmp_path / "lint.graphql"
    path.write_text(sdl)
    done = node_tools.run(
        LINTER, "--config-directory", str(node_tools.TOOLS), "--format", "json", str(path)
    )
    assert done.returncode in (0, 1), done.stderr  # 1: findings; anything else: a crash
    errors = json.loads(done.stdout)["errors"]
    assert (done.returncode == 1) == bool(errors)
    return [f"{e['rule']}: {e['message']}" for e in errors]


def test_the_schema_passes_the_linter(tmp_path: Path):
    assert lint(schema.as_str(), tmp_path) == []


def test_the_linter_reports_what_the_house_rules_forbid(tmp_path: Path):
    # The configuration must keep these rules on: the check above would pass without them.
    findings = lint(
        '"""Root."""\n'
        "type Query {\n"
        '  """lower case."""\n'
        "  some_field(a: Int): Thing\n"
        "}\n"
        "type Thing { x: Int }\n",
        tmp_path,
    )
    rules = {finding.split(":")[0] for finding in findings}
    assert rules >= {
        "descriptions-are-capitalized",
        "fields-are-camel-cased",
        "arguments-have-descriptions",
        "types-have-descriptions",
        "fields-have-descriptions",
    }
