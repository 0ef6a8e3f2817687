"""The command examples of README.md and docs/ (docs/development.md holds the developers'):
every `portico ...`, `python -m bench.run ...` and `scripts/...` line of their fenced shell
blocks names a command that exists, with options it accepts; `create-staff` runs as written
(password from PORTICO_STAFF_PASSWORD) and its owner then signs in. Servers, benchmarks and
outside services are not started here (tests/test_wheel.py serves, migrates and loads the
demo for real)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import httpx
import pytest

from bench.run import parse_args as bench_args
from core.settings import settings_from_env
from models.db import Database
from portico.app import create_app
from portico.cli import build_parser
from tests.helpers import SIGN_IN
from tests.served import portico

ROOT = Path(__file__).resolve().parent.parent
SHELL_BLOCK = re.compile(r"^[ \t]*```(?:bash|sh)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)


def commands() -> list[list[str]]:
    """Each command line of the shell blocks, split as a shell would, with its comment and
    environment assignments dropped."""
    found = []
    texts = [(ROOT / "README.md").read_text()]
    texts += [path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))]
    for block in (block for text in texts for block in SHELL_BLOCK.findall(text)):
        pending = ""
        for line in block.replace("\\\n", " ").splitlines():
            try:
                words = shlex.split(pending + line, comments=True)
            except ValueError:  # a quoted argument goes on over the next line
                pending += line + "\n"
                continue
            pending = ""
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]
            if words:
                found.append(words)
    return found


def portico_commands() -> list[list[str]]:
    return [w[1:] for w in commands() if Path(w[0]).name == "portico"]


def test_every_portico_command_in_the_readme_parses():
    examples = portico_commands()
    assert {"serve", "migrate", "demo", "create-staff"} <= {e[0] for e in examples}
    parser = build_parser()
    for example in examples:
        try:
            parser.parse_args(example)
        except SystemExit:
            pytest.fail(f"README.md: `portico {shlex.join(example)}` is refused")


def test_every_bench_and_script_command_in_the_readme_exists():
    lines = commands()
    bench = [w[3:] for w in lines if w[1:3] == ["-m", "bench.run"]]
    assert bench
    for example in bench:
        bench_args(example)  # argparse exits (failing the test) on an unknown option
    scripts = [w[0] for w in lines if w[0].startswith("scripts/")]
    assert {"scripts/serve", "scripts/test", "scripts/lock"} <= set(scripts)
    for script in scripts:
        assert os.access(ROOT / script, os.X_OK), script


async def test_create_staff_as_the_readme_writes_it_then_sign_in(tmp_path: Path):
    (example,) = [e for e in portico_commands() if e[0] == "create-staff"]
    assert "--password" not in example  # the README says where the password comes from
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}",
        "PORTICO_STAFF_PASSWORD": "a password from the environment",
    }
    portico(env, "migrate")
    portico(env, *example)
    email = example[example.index("--email") + 1]
    settings = settings_from_env({"DATABASE_URL": env["DATABASE_URL"]})
    db = Database(settings)
    try:
        app = create_app(settings, db=db, run_mail_worker=False)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as h:
            variables = {"input": {"email": email, "password": env["PORTICO_STAFF_PASSWORD"]}}
            answer = await h.post("/graphql", json={"query": SIGN_IN, "variables": variables})
        body = answer.json()
        assert "errors" not in body, body
        assert body["data"]["signIn"]["token"] and body["data"]["signIn"]["userErrors"] == []
        assert body["data"]["signIn"]["staffUser"]["role"] == "OWNER"
    finally:
        await db.dispose()
