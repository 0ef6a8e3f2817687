"""The built wheel is a working server: installed into a clean venv outside the checkout
(its dependencies at the versions requirements.lock pins), `portico migrate`, `portico
demo` and `portico serve` run from that venv, and a served query answers without errors.

The checkout's own modules are never importable there: the commands run from a temporary
folder with a clean environment, so a module or data file the wheel lacks fails here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
INSTALL_SECONDS = 600  # a cold pip cache downloads every dependency once
START_SECONDS = 60.0
NOT_SOURCE = (
    ".git",
    ".venv",
    "var",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    "node_modules",  # tools/graphql's, installed by the checks that use it
)

CUSTOMERS = """
query { customers(first: 3) { totalCount nodes { id name cars(first: 2) { nodes { make } } } } }
"""
INVOICE_PDF = "query { invoices(first: 1, status: [OPEN]) { nodes { number pdfUrl } } }"


def lock_as_constraints(lock: Path, target: Path) -> None:
    """requirements.lock's pins as constraints: they fix versions without asking for the
    packages, so only the wheel's own dependencies are installed, and one missing from
    pyproject.toml fails this test instead of hiding behind the test extras."""
    lines = lock.read_text().splitlines()
    # "name==1.2 ; marker \\" lines name the pins; the indented ones below are hashes.
    pins = [line.rstrip(" \\") for line in lines if re.match(r"[a-z0-9]", line)]
    target.write_text("\n".join(pins) + "\n")


def run(command: list[str], env: dict[str, str], cwd: Path, timeout: float) -> str:
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv with the wheel and its locked dependencies, nothing else; yields its bin/."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    # From a clean copy: setuptools builds in the source folder, and a build/ left there
    # by an earlier build would lend the wheel files that the package list misses.
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(source),
        ],
        env,
        tmp,
        INSTALL_SECONDS,
    )
    (wheel,) = (tmp / "dist").glob("portico-*.whl")
    run([sys.executable, "-m", "venv", str(tmp / "venv")], env, tmp, INSTALL_SECONDS)
    lock_as_constraints(LOCK, tmp / "constraints.txt")
    pip = [str(tmp / "venv" / "bin" / "python"), "-m", "pip", "install", "-q"]
    run([*pip, "-c", str(tmp / "constraints.txt"), str(wheel)], env, tmp, INSTALL_SECONDS)
    yield tmp / "venv" / "bin"


def test_wheel_installs_a_server_that_migrates_loads_the_demo_and_answers(
    installed: Path, tmp_path: Path
) -> None:
    env = {
        "PATH": f"{installed}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}",
        "STORAGE_DIR": str(tmp_path / "storage"),
        "MAIL_DIR": str(tmp_path / "mail"),
    }
    # The whole app imports, from the venv, not from the checkout.
    where = run(
        [str(installed / "python"), "-c", "import portico.app, pdf; print(pdf.__file__)"],
        env,
        tmp_path,
        START_SECONDS,
    )
    assert str(installed.parent) in where and str(ROOT) not in where

    port = free_port()
    env["PORTICO_PORT"] = str(port)
    assert "database is at the latest migration" in run(
        [str(installed / "portico"), "migrate"], env, tmp_path, START_SECONDS
    )
    demo = run([str(installed / "portico"), "demo"], env, tmp_path, 5 * START_SECONDS)
    assert f"http://127.0.0.1:{port}/graphql" in demo

    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(installed / "portico"), "serve"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            answers = _use_the_server(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    log_text = log_path.read_text()
    assert answers["customers"]["totalCount"] >= 25, answers
    assert "Application startup complete" in log_text
    assert not [line for line in log_text.splitlines() if line.startswith("ERROR")], log_text


def _use_the_server(base_url: str) -> dict[str, dict]:
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while True:
            try:
                if http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the installed server did not start"
            time.sleep(0.2)
        sign_in = http.post(
            "/graphql",
            json={
                "query": 'mutation { signIn(input: {email: "owner@demo.portico.test", '
                'password: "portico-demo-owner"}) { token userErrors { code } } }'
            },
        ).json()
        assert "errors" not in sign_in, sign_in
        auth = {"Authorization": f"Bearer {sign_in['data']['signIn']['token']}"}
        body = http.post("/graphql", json={"query": CUSTOMERS}, headers=auth).json()
        assert "errors" not in body, body
        # The invoice PDF is drawn in the font shipped as package data.
        pdf = http.post("/graphql", json={"query": INVOICE_PDF}, headers=auth).json()
        assert "errors" not in pdf, pdf
        url = pdf["data"]["invoices"]["nodes"][0]["pdfUrl"]
        assert url.startswith(base_url)  # PUBLIC_URL follows PORTICO_PORT
        download = http.get(url)
        assert download.status_code == 200 and download.content.startswith(b"%PDF")
        # GraphiQL's page and every file it loads come from the installed package.
        page = http.get("/graphql", headers={"Accept": "text/html"})
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
        assert len(assets) == 8, page.text
        assert all(http.get(url).status_code == 200 for url in assets)
        return body["data"]
