"""GraphiQL in a real browser, with no internet: Debian's chromium (driven by Playwright)
opens a served Portico's /graphql, runs a query typed into the editor, and the answer is
read back from the page. Every request the page makes must stay on 127.0.0.1, and the
page's Content-Security-Policy must refuse nothing it needs.

scripts/test installs chromium where it is missing; under CI=true a missing chromium
fails this test instead of skipping it."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import IN_CI
from tests.served import portico, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL, PASSWORD = "ada@browser.test", "a long browser password"
SIGN_IN = (
    f'mutation {{ signIn(input: {{email: "{EMAIL}", password: "{PASSWORD}"}}) '
    "{ staffUser { email role } userErrors { code } } }"
)
TIMEOUT_MS = 30_000


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[str]:
    """A development `portico serve` on SQLite with one owner; yields its base URL."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}",
        "STORAGE_DIR": str(tmp_path / "storage"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "PORTICO_STAFF_PASSWORD": PASSWORD,
    }
    portico(env, "migrate")
    owner = ["--name", "Ada Owner", "--email", EMAIL]
    portico(env, "create-staff", "--organization", "Browser Garage", "--slug", "browser", *owner)
    server, base_url = await start_server(env)
    try:
        yield base_url
    finally:
        await stop_server(server)


def _chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium; scripts/test does)"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


async def test_graphiql_runs_a_query_with_everything_served_from_here(served: str):
    from playwright.async_api import async_playwright

    chromium = _chromium()
    requests: list[str] = []
    problems: list[str] = []
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("websocket", lambda socket: requests.append(socket.url))
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            await page.goto(f"{served}/graphql", wait_until="load", timeout=TIMEOUT_MS)
            editor = page.locator(".graphiql-query-editor .CodeMirror")
            await editor.wait_for(timeout=TIMEOUT_MS)
            await editor.click()
            await page.keyboard.press("Control+A")
            await page.keyboard.press("Delete")
            await page.keyboard.insert_text(SIGN_IN)  # typed text, without auto-closed braces
            await page.locator(".graphiql-execute-button").click()
            result = page.locator(".result-window .CodeMirror")
            await result.get_by_text('"role"').wait_for(timeout=TIMEOUT_MS)
            text = await result.evaluate("node => node.CodeMirror.getValue()")
        finally:
            await browser.close()

    answer = json.loads(text)
    assert "errors" not in answer, answer
    assert answer["data"]["signIn"] == {
        "staffUser": {"email": EMAIL, "role": "OWNER"},
        "userErrors": [],
    }
    assert problems == []  # nothing refused by the page's policy, no script errors
    assert any(url.startswith(f"{served}/static/graphiql/graphiql.min.js") for url in requests)
    elsewhere = [u for u in requests if urlsplit(u).scheme != "data" and not _here(u)]
    assert elsewhere == []


def _here(url: str) -> bool:
    return urlsplit(url).hostname == "127.0.0.1"
