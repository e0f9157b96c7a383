"""Fixtures: in-process ``app``/``client``/``runner``, and the live server.

Live tests share one session-scoped server (``server``) and isolate themselves by
building a fresh tenant tree per test (``world``). Tests that must restart, kill or
reconfigure a server use ``server_factory``.
"""

from __future__ import annotations

import os

# In-process apps hash passwords too; the cheap profile keeps tests fast.
os.environ.setdefault("PASSWORD_HASH_PROFILE", "fast")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.support.server import (
    LiveServer,
    ServerProcess,
    base_env,
    create_database,
    drop_database,
    prepare_database,
)
from tests.support.sockets import SocketRecorder
from tests.support.world import World, build_world
from webapp import create_app
from webapp.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# As root in a closed network: no sandbox, no GPU, nothing phoning home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def app() -> Iterator[Flask]:
    """An in-process app on an in-memory database (threading mode)."""
    app = create_app("testing")
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """CLI runner for the in-process app."""
    return app.test_cli_runner()


def _sqlite_env(directory: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return base_env(f"sqlite:///{directory / 'switchboard.db'}", extra)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The shared live server (``python wsgi.py``, eventlet, SQLite).

    With ``TEST_DATABASE_URL`` (a PostgreSQL server URL) it runs on a fresh
    database created there and dropped afterwards: the whole suite on PostgreSQL.
    """
    directory = tmp_path_factory.mktemp("live")
    pg_server = os.environ.get("TEST_DATABASE_URL")
    database_url = create_database(pg_server) if pg_server else None
    extra = {"TEST_LOG_DIR": str(directory)}
    if database_url:
        env = base_env(database_url, extra)
    else:
        env = _sqlite_env(directory, extra)
    seed = prepare_database(env)
    process = ServerProcess(env).start()
    yield LiveServer(process, seed, env)
    process.stop()
    if database_url:
        drop_database(database_url)


@pytest.fixture
def server_factory(
    tmp_path: Path,
) -> Iterator[Callable[..., LiveServer]]:
    """Start dedicated servers with extra env; all are stopped after the test."""
    started: list[ServerProcess] = []

    def start(
        extra: dict[str, str] | None = None,
        database_url: str | None = None,
        seed: bool = True,
        command: list[str] | None = None,
    ) -> LiveServer:
        env = (
            base_env(database_url, extra)
            if database_url
            else _sqlite_env(tmp_path, extra)
        )
        env.setdefault("TEST_LOG_DIR", str(tmp_path))
        seed_data = prepare_database(env) if seed else {}
        process = ServerProcess(env, command=command).start()
        started.append(process)
        return LiveServer(process, seed_data, env)

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def world(server: LiveServer) -> World:
    """A fresh MSP with two client tenants, users and keys on the shared server."""
    return build_world(server.url, server.seed)


@pytest.fixture
def sockets() -> Iterator[Callable[..., SocketRecorder]]:
    """Make ``SocketRecorder``s; all are disconnected after the test."""
    made: list[SocketRecorder] = []

    def make(**kwargs: Any) -> SocketRecorder:
        recorder = SocketRecorder(**kwargs)
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.disconnect()


def require_service(name: str, url: str | None) -> str:
    """Skip when a service is absent, or fail when REQUIRE_SERVICES=1 (CI)."""
    if url:
        return url
    message = f"{name} is not configured"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message + " but REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Debian Chromium, launched by Playwright."""
    require_service(
        f"Chromium at {CHROMIUM} (make browser)",
        CHROMIUM if os.path.exists(CHROMIUM) else None,
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database (``sb_<random>``) on TEST_POSTGRES_URL's server."""
    server_url = require_service("PostgreSQL", os.environ.get("TEST_POSTGRES_URL"))
    database_url = create_database(server_url)
    yield database_url
    drop_database(database_url)


@pytest.fixture
def redis_url() -> str:
    """The shared Redis (TEST_REDIS_URL); isolate with a unique channel per test."""
    return require_service("Redis", os.environ.get("TEST_REDIS_URL"))
