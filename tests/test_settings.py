"""Configuration: safe development defaults, strict production."""

import pytest

from core.settings import ConfigurationError, settings_from_env
from tests.security.apps import PRODUCTION


def test_development_defaults_use_embedded_sqlite():
    settings = settings_from_env({})
    assert settings.is_sqlite
    assert settings.database_url.endswith("var/portico.db")
    settings.check()  # development starts on defaults


def test_production_refuses_the_default_secret():
    settings = settings_from_env(
        {"PORTICO_ENV": "production", "DATABASE_URL": "postgresql+asyncpg://db/portico"}
    )
    with pytest.raises(ConfigurationError, match="SECRET_KEYS"):
        settings.check()


def test_production_refuses_sqlite_unless_told():
    env = {**PRODUCTION, "PORTICO_ALLOW_SQLITE": ""}
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        settings_from_env(env).check()
    settings_from_env({**env, "PORTICO_ALLOW_SQLITE": "1"}).check()


def test_production_refuses_webhooks_to_loopback():
    settings_from_env(PRODUCTION).check()
    with pytest.raises(ConfigurationError, match="WEBHOOK_ALLOW_LOOPBACK"):
        settings_from_env({**PRODUCTION, "WEBHOOK_ALLOW_LOOPBACK": "1"}).check()
    settings_from_env({"WEBHOOK_ALLOW_LOOPBACK": "1"}).check()  # development may


def test_secret_keys_keep_their_order_newest_first():
    settings = settings_from_env({"SECRET_KEYS": " new , old ,"})
    assert settings.secret_keys == ("new", "old")


def test_listen_address_defaults_and_public_url_follows_it():
    settings = settings_from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.local_url == settings.public_url == "http://127.0.0.1:8000"

    moved = settings_from_env({"PORTICO_HOST": "0.0.0.0", "PORTICO_PORT": "8123"})
    assert (moved.host, moved.port) == ("0.0.0.0", 8123)
    # A wildcard address is opened through the loopback one; links follow the port.
    assert moved.local_url == moved.public_url == "http://127.0.0.1:8123"

    proxied = settings_from_env({"PORTICO_PORT": "9000", "PUBLIC_URL": "https://api.example/"})
    assert proxied.local_url == "http://127.0.0.1:9000"
    assert proxied.public_url == "https://api.example"
    assert settings_from_env({"PORTICO_HOST": "::1"}).local_url == "http://[::1]:8000"
