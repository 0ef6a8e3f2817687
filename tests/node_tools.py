"""The pinned node tools of tools/graphql (the graphql-http audit, graphql-schema-linter,
graphql-inspector), installed with `npm ci` from its package-lock.json when node_modules
is missing or older than the lock, and run with node.

Node and npm are required: without them these checks fail rather than skip, so a machine
without node cannot pass the suite by not running them."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS = Path(__file__).parent.parent / "tools" / "graphql"
NODE_MODULES = TOOLS / "node_modules"
STAMP = NODE_MODULES / ".portico-lock-sha256"  # the lock node_modules was installed from
INSTALL_SECONDS = 300.0
RUN_SECONDS = 120.0


def _required(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        pytest.fail(f"{program} is missing: install Node.js 20 or newer", pytrace=False)
    return found


def install() -> None:
    """`npm ci` from the lock, once per lock change (as scripts/venv.sh does for Python)."""
    wanted = hashlib.sha256((TOOLS / "package-lock.json").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    npm = _required("npm")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=TOOLS,
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"npm ci in {TOOLS} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    STAMP.write_text(wanted)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run node with `args` (a script of tools/graphql or one of its bins), installed
    first; `env` adds to this process's environment."""
    install()
    node = _required("node")
    return subprocess.run(
        [node, *args],
        cwd=TOOLS,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


def bin_path(package: str, script: str) -> str:
    """The entry script of an installed package's command (run with node, not a shell)."""
    return str(NODE_MODULES / package / script)
