"""Issue 15 item 5: no live token in any log line.

A real `portico serve` in production mode, its access log on, sends mail through a real
SMTP server; a portal customer goes through invite -> redeem -> password reset -> password
sign-in -> email change, opening each emailed page as a browser would. Afterwards no line
the server wrote holds any link token, session token or password the flow used.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from tests.portal import tokens_for
from tests.security.apps import STRONG_KEY
from tests.served import portico, sign_in, start_server, stop_server
from tests.smtp import SmtpServer

OWNER, OWNER_PASSWORD = "owner@logs.test", "logs-owner-password-1"
CUSTOMER, NEW_ADDRESS = "alice@logs.test", "alice.new@logs.test"
PORTAL_PASSWORD = "alice-portal-password-2"
MAIL_SECONDS = 20.0

SETTINGS = """mutation S($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { userErrors { code } } }"""
CREATE = """mutation C($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } userErrors { code } } }"""
INVITE = """mutation I($input: PortalPersonInput!) {
  sendPortalInvite(input: $input) { userErrors { code } } }"""
REDEEM = """mutation R($input: LinkTokenInput!) {
  redeemMagicLink(input: $input) { outcome token } }"""
REQUEST_RESET = """mutation Q($input: RequestLinkInput!) {
  requestPasswordReset(input: $input) { message } }"""
RESET = """mutation P($input: ResetPasswordInput!) {
  resetPassword(input: $input) { outcome token userErrors { code } } }"""
PASSWORD_SIGN_IN = """mutation P($input: PortalSignInInput!) {
  portalSignIn(input: $input) { outcome token userErrors { code } } }"""
REQUEST_CHANGE = """mutation E($input: RequestEmailChangeInput!) {
  requestEmailChange(input: $input) { sent userErrors { code } } }"""
CONFIRM_CHANGE = """mutation F($input: ConfirmEmailChangeInput!) {
  confirmEmailChange(input: $input) { outcome userErrors { code } } }"""


class Portal:
    """The served server seen from outside: GraphQL calls and emailed links."""

    def __init__(self, http: httpx.AsyncClient, smtp: SmtpServer) -> None:
        self.http = http
        self.smtp = smtp

    async def call(self, query: str, payload: dict[str, Any], token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": {"input": payload}}
        result = (await self.http.post("/graphql", json=body, headers=headers)).json()
        assert "errors" not in result, result
        (answer,) = result["data"].values()
        assert not answer.get("userErrors"), answer
        return answer

    async def link_token(self, address: str, already: int) -> str:
        """The token of the next email to `address` (the server's worker sends it)."""
        deadline = time.monotonic() + MAIL_SECONDS
        while len(found := tokens_for(self.smtp, address)) <= already:
            assert time.monotonic() < deadline, f"no email reached {address}"
            await asyncio.sleep(0.2)
        return found[already]

    async def open_page(self, path: str, token: str) -> None:
        """What a browser does with the link: GET the page (the access log sees this)."""
        assert (await self.http.get(path, params={"token": token})).status_code == 200


async def test_no_token_or_password_reaches_any_log_line(
    scratch_database_url: str, smtp: SmtpServer, tmp_path: Path
):
    env = {
        **os.environ,
        "PORTICO_ENV": "production",
        "SECRET_KEYS": STRONG_KEY,
        "PORTICO_ALLOW_SQLITE": "1",
        "DATABASE_URL": scratch_database_url,
        "SMTP_URL": smtp.url,
        "MAIL_DIR": str(tmp_path / "mail"),
        "STORAGE_DIR": str(tmp_path / "storage"),
        "PORTICO_STAFF_PASSWORD": OWNER_PASSWORD,
    }
    portico(env, "migrate")
    staff = ("--organization", "Log Garage", "--slug", "logs", "--name", "Owner")
    portico(env, "create-staff", *staff, "--email", OWNER)
    log_path = tmp_path / "server.log"
    secrets_used: dict[str, str] = {"owner password": OWNER_PASSWORD}
    with log_path.open("wb") as log_file:
        server, base_url = await start_server(
            env, stderr=log_file, stdout=log_file, args=("--access-log",)
        )
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=15) as http:
                portal = Portal(http, smtp)
                await _flow(portal, await sign_in(http, OWNER, OWNER_PASSWORD), secrets_used)
            server.send_signal(signal.SIGTERM)
            await asyncio.wait_for(server.wait(), 30)
        finally:
            await stop_server(server)
    lines = log_path.read_text(errors="replace").splitlines()
    for what, secret in secrets_used.items():
        leaking = [line for line in lines if secret in line]
        assert not leaking, f"{what} in the log: {leaking}"
    # The log is the one the flow wrote: the access log saw every page and every call.
    for path in ("/portal/sign-in", "/portal/reset-password", "/portal/confirm-email"):
        assert any(f"GET {path}?token=[redacted]" in line for line in lines), lines
    assert sum('"POST /graphql HTTP/1.1" 200' in line for line in lines) >= 10


async def _flow(portal: Portal, staff_token: str, used: dict[str, str]) -> None:
    used["staff session"] = staff_token
    await portal.call(SETTINGS, {"signInMethod": "PASSWORD"}, staff_token)
    made = await portal.call(CREATE, {"name": "Alice", "email": CUSTOMER}, staff_token)
    await portal.call(INVITE, {"customerId": made["customer"]["id"]}, staff_token)

    invite = used["invite link"] = await portal.link_token(CUSTOMER, 0)
    await portal.open_page("/portal/sign-in", invite)
    redeemed = await portal.call(REDEEM, {"token": invite})
    assert redeemed["outcome"] == "SIGNED_IN"
    used["invite session"] = redeemed["token"]
    again = await portal.call(REDEEM, {"token": invite})  # a used link is refused (and logged)
    assert again["outcome"] == "INVALID"

    await portal.call(REQUEST_RESET, {"email": CUSTOMER, "organization": "logs"})
    reset = used["reset link"] = await portal.link_token(CUSTOMER, 1)
    await portal.open_page("/portal/reset-password", reset)
    # A refused call whose input holds the token and password: graphql-core's message
    # quotes the input back ("Found: {...}"); the client may see it, the log may not.
    sneaky = {"token": reset, "password": PORTAL_PASSWORD, "extra": 1}
    refused = await portal.http.post(
        "/graphql", json={"query": RESET, "variables": {"input": sneaky}}
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    done = await portal.call(RESET, {"token": reset, "password": PORTAL_PASSWORD})
    assert done["outcome"] == "SIGNED_IN"
    used["reset session"] = done["token"]
    used["portal password"] = PORTAL_PASSWORD

    credentials = {"email": CUSTOMER, "password": PORTAL_PASSWORD, "organization": "logs"}
    signed_in = await portal.call(PASSWORD_SIGN_IN, credentials)
    used["password session"] = session = signed_in["token"]

    await portal.call(REQUEST_CHANGE, {"newEmail": NEW_ADDRESS}, session)
    change = used["email change link"] = await portal.link_token(NEW_ADDRESS, 0)
    await portal.open_page("/portal/confirm-email", change)
    confirmed = await portal.call(CONFIRM_CHANGE, {"token": change})
    assert confirmed["outcome"] == "CHANGED"
