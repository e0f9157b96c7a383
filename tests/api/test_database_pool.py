"""Pool settings: no pre-ping per checkout, yet a database restart heals itself.

The server reaches PostgreSQL through a TCP proxy; cutting the proxy kills every
pooled connection (and the event-log writer's) as a restart would. Requests on a
dead connection may answer 503, never a 5xx of another kind, and the pool renews
itself within a few requests. And SQLite's pool and ``SQLITE_SYNCHRONOUS``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import requests
from flask import Flask
from sqlalchemy import text

from config import ConfigurationError, DevelopmentConfig
from tests.support.netfault import TcpProxy
from tests.support.server import LiveServer
from tests.support.world import Api, build_world
from webapp import create_app
from webapp.extensions import db
from webapp.services.delivery.log_writer import PUBLISH_LOCK_KEY


def _through(proxy: TcpProxy, database_url: str) -> str:
    parts = urlsplit(database_url)
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _until_ok(send: Callable[[], requests.Response], expected: int) -> int:
    """Send until the answer is ``expected``; return how many 503s came first."""
    for attempt in range(10):
        response = send()
        if response.status_code == expected:
            return attempt
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "dependency_unavailable"
    raise AssertionError("the pool did not recover within 10 requests")


@pytest.mark.postgres
def test_requests_recover_after_the_database_drops_every_connection(
    server_factory: Callable[..., LiveServer], postgres_url: str
) -> None:
    port = urlsplit(postgres_url).port or 5432
    proxy = TcpProxy(port)
    try:
        server = server_factory(database_url=_through(proxy, postgres_url))
        world = build_world(server.url, server.seed)
        publisher = world.api(world.key_a)
        reader = Api(server.url, token=world.user_a.access_token)
        body = {
            "namespace": "/engagement",
            "event": "alert",
            "data": {"severity": "info", "title": "t", "message": "m"},
            "target": {"tenant": world.tenant_a["id"]},
        }
        for _ in range(3):  # pooled connections and the writer's are open
            assert publisher.post("/api/publish", json=body).status_code == 202
            assert reader.get("/api/events").status_code == 200
        proxy.cut()
        proxy.restore()
        _until_ok(lambda: publisher.post("/api/publish", json=body), 202)
        _until_ok(lambda: reader.get("/api/events"), 200)
        _until_ok(lambda: reader.get("/api/tenants"), 200)
        # Healed: every following request succeeds.
        for _ in range(5):
            assert publisher.post("/api/publish", json=body).status_code == 202
            assert reader.get("/api/events").status_code == 200
        assert requests.get(server.url + "/ready", timeout=5).status_code == 200
    finally:
        proxy.close()


def _file_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, synchronous: str | None
) -> Flask:
    monkeypatch.setattr(
        DevelopmentConfig, "SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/p.db"
    )
    if synchronous is not None:
        monkeypatch.setattr(DevelopmentConfig, "SQLITE_SYNCHRONOUS", synchronous)
    return create_app("development")


@pytest.mark.parametrize(("setting", "expected"), [(None, 2), ("NORMAL", 1)])
def test_sqlite_synchronous_is_applied_to_every_pooled_connection(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    setting: str | None,
    expected: int,
) -> None:
    app = _file_app(monkeypatch, tmp_path, setting)
    with app.app_context():
        engine = db.engine
        assert engine.pool.size() == app.config["DB_POOL_SIZE"]
        connections = [engine.connect() for _ in range(3)]
        try:
            for connection in connections:
                mode = connection.execute(text("PRAGMA synchronous")).scalar()
                assert mode == expected  # 2 = FULL, 1 = NORMAL
        finally:
            for connection in connections:
                connection.close()


def test_an_unknown_sqlite_synchronous_mode_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="SQLITE_SYNCHRONOUS"):
        _file_app(monkeypatch, tmp_path, "OFF; DROP TABLE users")


@pytest.mark.postgres
def test_the_ordering_lock_is_released_after_every_group(
    server_factory: Callable[..., LiveServer], postgres_url: str
) -> None:
    server = server_factory(database_url=postgres_url)
    world = build_world(server.url, server.seed)
    body = {
        "namespace": "/engagement",
        "event": "alert",
        "data": {"severity": "info", "title": "t", "message": "m"},
        "target": {"tenant": world.tenant_a["id"]},
    }
    publisher = world.api(world.key_a)
    for _ in range(5):
        assert publisher.post("/api/publish", json=body).status_code == 202
    batch = publisher.post("/api/publish/batch", json=[body] * 20)
    assert batch.status_code == 202, batch.text
    # Nobody holds it now: another session takes it at once.
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", (PUBLISH_LOCK_KEY,))
        assert cursor.fetchone() == (True,)
        cursor.execute("SELECT pg_advisory_unlock(%s)", (PUBLISH_LOCK_KEY,))
    conn.close()
