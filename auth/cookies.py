"""The browser session cookie: the session token, signed with the rotating SECRET_KEYS.

The cookie is `__Host-` prefixed (Secure, Path=/, no Domain), HttpOnly and SameSite=Lax.
A cookie signed with a key that has left SECRET_KEYS no longer verifies.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from core.settings import Settings

COOKIE_NAME = "__Host-portico_session"
SALT = "portico-session-cookie"


def _serializer(settings: Settings) -> URLSafeSerializer:
    # itsdangerous signs with the last key and verifies with all: newest goes last.
    return URLSafeSerializer(list(reversed(settings.secret_keys)), salt=SALT)


def sign_session_token(settings: Settings, token: str) -> str:
    return _serializer(settings).dumps(token)


def read_session_cookie(settings: Settings, value: str | None) -> str | None:
    if not value:
        return None
    try:
        token = _serializer(settings).loads(value)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def cookie_options(max_age: int) -> dict[str, object]:
    return {"max_age": max_age, "path": "/", "secure": True, "httponly": True, "samesite": "lax"}
