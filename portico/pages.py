"""Portico's own minimal portal pages, used when no PORTAL_URL is configured.

Opening a link only shows a page: the token is redeemed by a POST from the page's script,
so mail scanners that prefetch links burn nothing. The token never leaves the browser
except in that POST; no-referrer keeps it out of other sites' logs.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}
button{{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;background:#1f3a5f;
color:#fff;cursor:pointer}} input{{font-size:1rem;padding:.4rem;width:100%;margin:.5rem 0}}
pre{{background:#f4f4f4;padding:.8rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}}
</style></head><body>
<h1>{title}</h1>
<div id="step">{body}</div>
<script>
const token = new URLSearchParams(location.search).get("token") || "";
const step = document.getElementById("step");
async function call(query, input) {{
  const r = await fetch("/graphql", {{method: "POST", credentials: "same-origin",
    headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{query, variables: {{input}}}})}});
  return (await r.json()).data;
}}
function show(html) {{ step.innerHTML = html; }}
function signedIn(result) {{
  show("<p>You are signed in.</p><p>To explore the API as this portal viewer, open " +
    "<a href='/graphql'>GraphiQL</a> and put this in its Headers tab:</p><pre>" +
    JSON.stringify({{Authorization: "Bearer " + result.token}}) + "</pre>" +
    "<p>Then try <code>{{ viewer {{ customer {{ name cars {{ nodes {{ make model }} }} }} }} " +
    "}}</code>.</p>");
}}
async function resend() {{
  const d = await call("mutation($input: LinkTokenInput!) {{ resendMagicLink(input: $input) " +
    "{{ message }} }}", {{token}});
  show("<p>" + d.resendMagicLink.message + "</p>");
}}
function outcome(result) {{
  if (result.outcome === "SIGNED_IN") return signedIn(result);
  if (result.outcome === "EXPIRED") return show("<p>This link has expired.</p>" +
    "<button onclick='resend()'>Email me a new link</button>");
  show("<p>This link cannot be used any more. Ask for a new one from your portal's " +
    "sign-in page.</p>");
}}
{script}
</script></body></html>"""

SIGN_IN_SCRIPT = """
async function redeem() {
  const d = await call("mutation($input: LinkTokenInput!) { redeemMagicLink(input: $input) " +
    "{ outcome token } }", {token});
  outcome(d.redeemMagicLink);
}
"""
RESET_SCRIPT = """
async function reset() {
  const password = document.getElementById("password").value;
  const d = await call("mutation($input: ResetPasswordInput!) { resetPassword(input: $input) " +
    "{ outcome token userErrors { message } } }", {token, password});
  const r = d.resetPassword;
  if (r.userErrors.length) return alert(r.userErrors.map(e => e.message).join("\\n"));
  outcome(r);
}
"""
CONFIRM_EMAIL_SCRIPT = """
async function confirmEmail() {
  const d = await call("mutation($input: ConfirmEmailChangeInput!) { " +
    "confirmEmailChange(input: $input) { outcome email userErrors { message } } }", {token});
  const r = d.confirmEmailChange;
  if (r.outcome === "CHANGED") return show("<p>Done: your portal now uses this address.</p>");
  if (r.userErrors.length) return show("<p>" + r.userErrors.map(e => e.message).join(" ") +
    "</p>");
  show("<p>This link cannot be used any more. Ask again from your portal's profile.</p>");
}
"""


# Staff links (domain/staff/mail.py) when no STAFF_URL is configured: the page POSTs the
# token with the chosen password, and shows the new staff session's token for GraphiQL.
STAFF_SCRIPT = """
async function choose(field) {
  const password = document.getElementById("password").value;
  const d = await call("mutation($input: StaffLinkPasswordInput!) { " + field +
    "(input: $input) { token userErrors { message } } }", {token, password});
  const r = d[field];
  if (r.userErrors.length) return show("<p>" + r.userErrors.map(e => e.message).join(" ") +
    "</p>");
  show("<p>You are signed in.</p><p>To use the API as this staff member, open " +
    "<a href='/graphql'>GraphiQL</a> and put this in its Headers tab:</p><pre>" +
    JSON.stringify({Authorization: "Bearer " + r.token}) + "</pre>");
}
"""
STAFF_PASSWORD = (
    "<label>Password (10 characters or more)"
    "<input id='password' type='password' autocomplete='new-password'></label>"
)


def _page(title: str, body: str, script: str) -> HTMLResponse:
    html = PAGE.format(title=title, body=body, script=script)
    return HTMLResponse(html, headers=HEADERS)


async def sign_in_page(request: Request) -> HTMLResponse:
    return _page(
        "Sign in to your portal",
        "<p>Press the button to sign in. The link works once.</p>"
        "<button onclick='redeem()'>Sign in</button>",
        SIGN_IN_SCRIPT,
    )


async def reset_password_page(request: Request) -> HTMLResponse:
    return _page(
        "Choose a new password",
        "<label>New password (10 characters or more)"
        "<input id='password' type='password' autocomplete='new-password'></label>"
        "<button onclick='reset()'>Save and sign in</button>",
        RESET_SCRIPT,
    )


async def staff_invite_page(request: Request) -> HTMLResponse:
    return _page(
        "Join your team on Portico",
        f"<p>Choose your password to accept the invite. The link works once.</p>"
        f"{STAFF_PASSWORD}<button onclick='choose(\"acceptStaffInvite\")'>"
        "Save and sign in</button>",
        STAFF_SCRIPT,
    )


async def staff_reset_page(request: Request) -> HTMLResponse:
    return _page(
        "Choose a new staff password",
        f"{STAFF_PASSWORD}<button onclick='choose(\"resetStaffPassword\")'>"
        "Save and sign in</button>",
        STAFF_SCRIPT,
    )


async def confirm_email_page(request: Request) -> HTMLResponse:
    return _page(
        "Confirm your new email address",
        "<p>Press the button to use this address for your portal. The link works once.</p>"
        "<button onclick='confirmEmail()'>Confirm</button>",
        CONFIRM_EMAIL_SCRIPT,
    )


async def stripe_onboarding_done(request: Request) -> HTMLResponse:
    """Where Stripe sends the owner back after onboarding."""
    return _page(
        "Stripe account connected",
        "<p>Thank you. Stripe will confirm your account shortly; online payments switch on "
        "by themselves once it can take charges. You can close this window.</p>",
        "",
    )


async def stripe_onboarding_refresh(request: Request) -> HTMLResponse:
    """Where Stripe sends the owner when an onboarding link has expired."""
    return _page(
        "This onboarding link has expired",
        "<p>Start Stripe onboarding again from your dashboard to get a fresh link.</p>",
        "",
    )
