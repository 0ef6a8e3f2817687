"""Issue 15 items 5 and 6: production refuses to start on settings that would leak or
weaken it, with one sentence for the operator and no traceback."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from core.settings import MIN_SECRET_BITS, ConfigurationError, secret_bits, settings_from_env
from tests.security.apps import PRODUCTION, STRONG_KEY


def serve_refusal(env: dict[str, str]) -> str:
    """`portico serve` with `env`: it must exit at once; what it said on stderr."""
    command = [sys.executable, "-m", "portico.cli", "serve", "--port", "9"]
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr


def test_production_refuses_to_start_without_a_mail_transport():
    env = {**PRODUCTION, "SMTP_URL": ""}
    with pytest.raises(ConfigurationError, match="SMTP_URL"):
        settings_from_env(env).check()
    assert "production sends mail through SMTP_URL" in serve_refusal(env)
    settings_from_env(PRODUCTION).check()  # with one it starts


WEAK_KEYS = [
    "a-real-secret",
    "k" * 64,  # long but one character
    "correct-horse-" * 5,  # long but repeated
    secrets.token_urlsafe(24),  # random but 192 bits
    secrets.token_hex(24),
    "".join(secrets.choice("ab") for _ in range(200)),  # long but two characters
]


@pytest.mark.parametrize("weak", WEAK_KEYS)
def test_production_refuses_secret_keys_under_32_bytes_of_entropy(weak: str):
    assert secret_bits(weak) < MIN_SECRET_BITS
    # An old key counts as much as the newest: it still verifies tokens.
    env = {**PRODUCTION, "SECRET_KEYS": f"{STRONG_KEY},{weak}"}
    with pytest.raises(ConfigurationError, match="SECRET_KEYS entry 2 holds about") as refused:
        settings_from_env(env).check()
    assert weak not in str(refused.value)  # a refusal never prints the key
    stderr = serve_refusal(env)
    assert "SECRET_KEYS entry 2" in stderr and weak not in stderr
    settings_from_env({**env, "PORTICO_ENV": "development"}).check()  # development: any key


def test_keys_as_the_readme_makes_them_pass():
    for _ in range(50):
        key = secrets.token_urlsafe(40)
        assert secret_bits(key) >= MIN_SECRET_BITS
        settings_from_env({**PRODUCTION, "SECRET_KEYS": f"{key},{secrets.token_hex(32)}"}).check()


@pytest.mark.parametrize("unknown", ["prod", "staging", "test", "productoin"])
def test_portico_env_accepts_only_known_values(unknown: str):
    with pytest.raises(ConfigurationError, match="PORTICO_ENV is development or production"):
        settings_from_env({**PRODUCTION, "PORTICO_ENV": unknown})
    assert "PORTICO_ENV is development or production" in serve_refusal(
        {**PRODUCTION, "PORTICO_ENV": unknown}
    )
    assert settings_from_env({**PRODUCTION, "PORTICO_ENV": " Production "}).production
    assert not settings_from_env({"PORTICO_ENV": ""}).production  # unset: development
