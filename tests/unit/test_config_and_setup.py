"""Configuration, migrations and the demo seed (subprocesses, like production)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.support.server import ROOT, base_env, run_flask

BOOT = "from webapp import create_app; create_app('production'); print('started')"


def _boot(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BOOT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_production_refuses_to_start_without_secrets(
    tmp_path: Path, missing: str
) -> None:
    env = base_env(
        f"sqlite:///{tmp_path}/p.db", {"CORS_ALLOWED_ORIGINS": "https://app.test"}
    )
    env.pop(missing)
    result = _boot(env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_the_test_password_hash_profile(tmp_path: Path) -> None:
    env = base_env(
        f"sqlite:///{tmp_path}/p.db", {"CORS_ALLOWED_ORIGINS": "https://app.test"}
    )
    result = _boot(env)
    assert result.returncode != 0
    assert "PASSWORD_HASH_PROFILE" in result.stderr


def test_production_refuses_wildcard_cors(tmp_path: Path) -> None:
    env = base_env(f"sqlite:///{tmp_path}/p.db", {"CORS_ALLOWED_ORIGINS": "*"})
    result = _boot(env)
    assert result.returncode != 0
    assert "CORS_ALLOWED_ORIGINS" in result.stderr


def test_production_starts_with_secrets_and_explicit_origins(tmp_path: Path) -> None:
    env = base_env(
        f"sqlite:///{tmp_path}/p.db", {"CORS_ALLOWED_ORIGINS": "https://app.test"}
    )
    env.pop("PASSWORD_HASH_PROFILE")
    result = _boot(env)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_migrations_upgrade_an_empty_database_and_downgrade(tmp_path: Path) -> None:
    env = base_env(f"sqlite:///{tmp_path}/m.db")
    run_flask(env, "db", "upgrade")
    import sqlite3

    tables = {
        row[0]
        for row in sqlite3.connect(tmp_path / "m.db").execute(
            "select name from sqlite_master where type='table'"
        )
    }
    assert {"tenants", "users", "api_keys", "events", "revoked_tokens"} <= tables
    run_flask(env, "db", "downgrade", "base")
    run_flask(env, "db", "upgrade")


def test_migrations_match_the_models(tmp_path: Path) -> None:
    env = base_env(f"sqlite:///{tmp_path}/c.db")
    run_flask(env, "db", "upgrade")
    run_flask(env, "db", "check")  # fails, showing the diff, if models drifted


def test_seed_demo_is_idempotent_and_prints_working_credentials(tmp_path: Path) -> None:
    env = base_env(f"sqlite:///{tmp_path}/s.db")
    run_flask(env, "db", "upgrade")
    first = json.loads(run_flask(env, "seed-demo", "--json"))
    second = json.loads(run_flask(env, "seed-demo", "--json"))
    assert first == second
    assert {t["kind"] for t in first["tenants"]} == {"msp", "client"}
    assert len(first["tenants"]) == 3
    assert {u["role"] for u in first["users"]} == {"admin", "msp", "client"}
    assert all(t["api_key"].startswith("sb_") for t in first["tenants"])
    text = run_flask(env, "seed-demo")
    assert "admin@demo.switchboard" in text


def test_cors_origins_come_from_config(app: Flask) -> None:
    sio = app.extensions["socketio"]
    assert sio.eio.cors_allowed_origins == "*" or sio.eio.cors_allowed_origins == ["*"]
    assert sio.eio.max_http_buffer_size == app.config["MAX_PAYLOAD_BYTES"]


def test_websocket_compression_is_off_by_default(app: Flask) -> None:
    from webapp.realtime.build import StripWebSocketCompression

    assert isinstance(app.wsgi_app, StripWebSocketCompression)
    environ = {
        "HTTP_SEC_WEBSOCKET_EXTENSIONS": "permessage-deflate",
        "PATH_INFO": "/health",
        "REQUEST_METHOD": "GET",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    seen = {}

    def fake_start(status: str, headers: list[Any], exc_info: Any = None) -> None:
        seen["status"] = status

    app.wsgi_app(environ, fake_start)
    assert "HTTP_SEC_WEBSOCKET_EXTENSIONS" not in environ


def test_migrations_upgrade_and_downgrade_on_postgresql(postgres_url: str) -> None:
    env = base_env(postgres_url)
    run_flask(env, "db", "upgrade")
    run_flask(env, "db", "check")  # fails, showing the diff, if models drifted
    run_flask(env, "db", "downgrade", "base")
    run_flask(env, "db", "upgrade")


def test_seed_demo_refuses_to_run_in_production(tmp_path: Path) -> None:
    env = base_env(
        f"sqlite:///{tmp_path}/p.db",
        {"APP_CONFIG": "production", "CORS_ALLOWED_ORIGINS": "https://app.test"},
    )
    env.pop("PASSWORD_HASH_PROFILE")
    run_flask(env, "db", "upgrade")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "seed-demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refuses to run in production" in result.stderr


def test_procfile_runs_production_and_migrates_first() -> None:
    procfile = (ROOT / "Procfile").read_text()
    assert "web: APP_CONFIG=production python wsgi.py" in procfile
    assert "release: APP_CONFIG=production flask --app webapp db upgrade" in procfile


def test_production_admin_ui_reports_counts_only_unless_asked() -> None:
    """Production's Admin UI mode is `production` by default; development's is not."""
    env = {k: v for k, v in os.environ.items() if k != "ADMIN_UI_MODE"}
    code = (
        "import config; print(config.ProductionConfig.ADMIN_UI_MODE,"
        " config.DevelopmentConfig.ADMIN_UI_MODE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.stdout.split() == ["production", "development"], out.stderr
