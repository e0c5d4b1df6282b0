"""Settings read from GUANXI_* variables: defaults, parsing, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from guanxi.settings import env
from guanxi.settings.base import _database


def test_env_bool(monkeypatch):
    monkeypatch.setenv("GUANXI_DEBUG", "Yes")
    assert env.env_bool("GUANXI_DEBUG") is True
    monkeypatch.setenv("GUANXI_DEBUG", "maybe")
    with pytest.raises(env.ConfigurationError, match="GUANXI_DEBUG='maybe'"):
        env.env_bool("GUANXI_DEBUG")


def test_env_list(monkeypatch):
    monkeypatch.setenv("GUANXI_ALLOWED_HOSTS", "crm.example.com, .example.org,")
    assert env.env_list("GUANXI_ALLOWED_HOSTS", []) == ["crm.example.com", ".example.org"]


def test_secret_key_is_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("GUANXI_SECRET_KEY", raising=False)
    monkeypatch.setenv("GUANXI_HOME", str(tmp_path / "home"))
    first = env.secret_key()
    assert env.secret_key() == first and len(first) >= 50
    assert (tmp_path / "home" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_sqlite_gets_wal_and_immediate_transactions(tmp_path):
    config = _database(f"sqlite:///{tmp_path}/x.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_url():
    config = _database("postgres://crm:secret@db.internal:5433/guanxi")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "guanxi")


@pytest.mark.parametrize("url", ["mysql://root@localhost/x", "nonsense"])
def test_unsupported_database_url(url):
    with pytest.raises(env.ConfigurationError, match="GUANXI_DATABASE_URL"):
        _database(url)


@pytest.mark.slow
def test_cli_reports_bad_configuration_in_one_line(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_"))}
    environment |= {"GUANXI_HOME": str(tmp_path), "GUANXI_DATABASE_URL": "mysql://root@x/y"}
    result = subprocess.run(
        [sys.executable, "-m", "guanxi", "check"], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "guanxi: configuration error: GUANXI_DATABASE_URL='mysql://root@x/y': only sqlite:// "
        "and postgres:// are supported"
    ]


def test_production_settings_are_secure(monkeypatch):
    import importlib

    monkeypatch.delenv("GUANXI_INSECURE_HTTP", raising=False)
    production = importlib.import_module("guanxi.settings.production")
    production = importlib.reload(production)
    assert production.DEBUG is False
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
    assert production.SECURE_HSTS_SECONDS >= 31536000
    assert production.SECURE_SSL_REDIRECT
    assert len(production.AUTH_PASSWORD_VALIDATORS) == 4


def test_production_routes_leads_with_rules_kept_for_five_seconds(monkeypatch):
    import importlib

    monkeypatch.delenv("GUANXI_LEAD_RULES_CACHE_SECONDS", raising=False)
    production = importlib.reload(importlib.import_module("guanxi.settings.production"))
    assert production.LEAD_RULES_CACHE_SECONDS == 5
    monkeypatch.setenv("GUANXI_LEAD_RULES_CACHE_SECONDS", "0")
    production = importlib.reload(production)
    assert production.LEAD_RULES_CACHE_SECONDS == 0
