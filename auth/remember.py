"""Handing a new session to a browser as a cookie, and taking it back."""

from __future__ import annotations

from typing import Any

from auth.cookies import COOKIE_NAME, cookie_options, sign_session_token
from auth.sessions import ABSOLUTE_TIMEOUT, IssuedSession


def remember(context: Any, issued: IssuedSession) -> None:
    """Set the session cookie on the response (API clients use the bearer token instead)."""
    response = getattr(context, "response", None)
    if response is None:
        return
    value = sign_session_token(context.settings, issued.token)
    response.set_cookie(COOKIE_NAME, value, **cookie_options(int(ABSOLUTE_TIMEOUT.total_seconds())))


def forget(context: Any) -> None:
    response = getattr(context, "response", None)
    if response is not None:
        response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="lax")
