"""The group writer under faults: no duplicates, no hang, no lock left held, 503s.

In-process tests on a real database (a SQLite file, or PostgreSQL). Faults that
real parts cannot produce on demand (a commit whose reply is lost, an unlock
that fails, an emit that raises) are injected at the driver or Socket.IO server
boundary, which no user touches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from config import TestingConfig
from tests.support.publish_writer import alert_request, file_app, publish_alert  # noqa: F401 - fixture
from tests.support.server import LiveServer
from tests.support.sockets import SocketFactory
from tests.support.world import build_world
from webapp import create_app
from webapp.errors import Conflict, DependencyDown
from webapp.extensions import db, get_socketio
from webapp.models import Event, Tenant
from webapp.services.delivery import log_writer as event_log_writer
from webapp.services.delivery.log_writer import PUBLISH_LOCK_KEY, Ticket, process


def _count() -> int:
    db.session.remove()
    return int(db.session.scalar(select(func.count(Event.id))) or 0)


def _pg_app(
    url: str, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> Iterator[Flask]:
    import config as config_module

    class PgConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, **options}

    monkeypatch.setitem(config_module.config, "writer-faults", PgConfig)
    app = create_app("writer-faults")
    with app.app_context():
        db.create_all()
        db.session.add(Tenant(name="one", kind="client"))
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An in-process app (threading mode) on its own PostgreSQL database."""
    yield from _pg_app(postgres_url, monkeypatch)


def _hold_lock(url: str) -> Any:
    """Another session holding the ordering lock (as a stuck process would)."""
    holder = psycopg2.connect(url)
    holder.autocommit = True
    with holder.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", (PUBLISH_LOCK_KEY,))
    return holder


def _writer_waits_for_lock(holder: Any) -> bool:
    with holder.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        return bool(cursor.fetchone()[0])


def test_a_commit_whose_reply_is_lost_is_503_unknown_and_never_retried(
    file_app: Flask,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialect = db.engine.dialect
    real_commit = dialect.do_commit

    def commit_then_lose_reply(dbapi_connection: Any) -> None:
        real_commit(dbapi_connection)  # the server committed...
        monkeypatch.setattr(dialect, "do_commit", real_commit)
        raise OperationalError("COMMIT", {}, Exception("connection lost"))  # ...

    monkeypatch.setattr(dialect, "do_commit", commit_then_lose_reply)
    one = Ticket([alert_request(1, "a"), alert_request(1, "b")])
    two = Ticket([alert_request(2, "c")])
    with db.engine.connect() as connection:
        process([one, two], connection)
    for ticket in (one, two):
        assert isinstance(ticket.error, DependencyDown), ticket.error
        assert ticket.error.status == 503
        assert ticket.error.details == {"persisted": "unknown"}
    assert _count() == 3, "committed once, never written again"


def test_an_emit_that_raises_fails_only_its_caller(
    file_app: Flask,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = get_socketio()
    real_emit = server.emit
    emitted: list[int] = []

    def emit(event_name: str, data: Any, **kwargs: Any) -> None:
        if kwargs.get("to") == "tenant:2":
            raise RuntimeError("the manager broke")
        real_emit(event_name, data, **kwargs)
        emitted.append(data["id"])

    monkeypatch.setattr(server, "emit", emit)
    first, broken, last = (
        Ticket([alert_request(1, "a")]),
        Ticket([alert_request(2, "b")]),
        Ticket([alert_request(1, "c")]),
    )
    with db.engine.connect() as connection:
        process([first, broken, last], connection)
    assert first.results is not None and last.results is not None
    assert emitted == [first.results[0].envelope["id"], last.results[0].envelope["id"]]
    assert isinstance(broken.error, DependencyDown) and broken.error.status == 503
    assert broken.error.details == {"id": emitted[0] + 1, "persisted": True}
    assert _count() == 3


def test_a_conflict_with_a_claim_that_then_fails_is_not_answered(
    file_app: Flask,  # noqa: F811
) -> None:
    # The claim on key k fails with its ticket (tenant 999 does not exist), so
    # the other body for k is the first use of k, not a conflict.
    claimer = Ticket([alert_request(1, "a", key="k"), alert_request(999, "no tenant")])
    other = Ticket([alert_request(1, "b", key="k")])
    with db.engine.connect() as connection:
        process([claimer, other], connection)
    assert isinstance(claimer.error, IntegrityError)
    assert other.error is None and other.results is not None
    stored = db.session.scalars(select(Event).where(Event.idempotency_key == "k")).all()
    assert [e.data["title"] for e in stored] == ["b"]
    assert other.results[0].envelope["id"] == stored[0].id


def test_a_conflict_with_a_claim_that_commits_is_answered_409(
    file_app: Flask,  # noqa: F811
) -> None:
    claimer = Ticket([alert_request(1, "a", key="k")])
    other = Ticket([alert_request(1, "b", key="k")])
    with db.engine.connect() as connection:
        process([claimer, other], connection)
    assert claimer.results is not None
    assert isinstance(other.error, Conflict) and other.error.status == 409
    assert _count() == 1


class _LockReplyLost(psycopg2.extensions.cursor):
    """A driver cursor whose next advisory lock is granted, but the reply lost."""

    armed = False

    def execute(self, query: Any, vars: Any = None) -> Any:
        result = super().execute(query, vars)
        if _LockReplyLost.armed and "pg_advisory_lock(" in str(query):
            _LockReplyLost.armed = False
            raise psycopg2.extensions.QueryCanceledError("the reply was lost")
        return result


def test_a_lock_granted_with_its_reply_lost_is_not_left_held(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"connect_args": {"cursor_factory": _LockReplyLost}}
    for app in _pg_app(postgres_url, monkeypatch, **options):
        publish_alert(app, 1, "first")  # the writer and its connection are up
        _LockReplyLost.armed = True
        with pytest.raises(DependencyDown):
            publish_alert(app, 1, "lost")
        assert not _LockReplyLost.armed
        other = psycopg2.connect(postgres_url)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (PUBLISH_LOCK_KEY,))
                assert cursor.fetchone() == (True,), "the lock must not stay held"
                cursor.execute("SELECT pg_advisory_unlock(%s)", (PUBLISH_LOCK_KEY,))
        finally:
            other.close()
        publish_alert(app, 1, "after")
        assert _count() == 2


class _UnlockFails(psycopg2.extensions.cursor):
    """A driver cursor whose next advisory unlock fails (the connection stays)."""

    armed = False

    def execute(self, query: Any, vars: Any = None) -> Any:
        if _UnlockFails.armed and "pg_advisory_unlock" in str(query):
            _UnlockFails.armed = False
            # A cancel request arriving then: the connection survives the error.
            raise psycopg2.extensions.QueryCanceledError(
                "canceling statement due to user request"
            )
        return super().execute(query, vars)


def test_a_failed_unlock_closes_the_connection_and_frees_the_lock(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"connect_args": {"cursor_factory": _UnlockFails}}
    for _app in _pg_app(postgres_url, monkeypatch, **options):
        with db.engine.connect() as connection:
            _UnlockFails.armed = True
            ticket = Ticket([alert_request(1, "a")])
            process([ticket], connection)
            assert ticket.results is not None and not _UnlockFails.armed
            other = psycopg2.connect(postgres_url)
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_try_advisory_lock(%s)", (PUBLISH_LOCK_KEY,)
                    )
                    assert cursor.fetchone() == (True,), "the lock must not stay held"
                    cursor.execute("SELECT pg_advisory_unlock(%s)", (PUBLISH_LOCK_KEY,))
            finally:
                other.close()
            again = Ticket([alert_request(1, "b")])
            process([again], connection)  # the same writer connection reconnects
            assert again.results is not None
        assert _count() == 2


def test_a_stuck_writer_answers_503_and_drops_what_it_never_took(
    pg_app: Flask, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_log_writer, "WAIT_TIMEOUT", 1.0)
    writer = event_log_writer.writer_for(pg_app)
    assert writer is not None
    holder = _hold_lock(postgres_url)
    outcomes: dict[str, Any] = {}

    def publish(name: str) -> None:
        try:
            outcomes[name] = publish_alert(pg_app, 1, name)
        except DependencyDown as exc:
            outcomes[name] = exc

    try:
        taken = threading.Thread(target=publish, args=("taken",))
        taken.start()
        deadline = time.monotonic() + 10
        while not _writer_waits_for_lock(holder):  # the writer has taken it
            assert time.monotonic() < deadline
            time.sleep(0.01)
        queued = threading.Thread(target=publish, args=("queued",))
        queued.start()
        taken.join(10)
        queued.join(10)
        assert not taken.is_alive() and not queued.is_alive(), "publishes hung"
    finally:
        holder.close()  # releases the lock: the writer goes on
    for name, persisted in (("taken", "unknown"), ("queued", False)):
        error = outcomes[name]
        assert isinstance(error, DependencyDown) and error.status == 503
        assert error.details == {"persisted": persisted}
    after = publish_alert(pg_app, 1, "after")
    titles = db.session.scalars(select(Event.data).order_by(Event.id)).all()
    assert [t["title"] for t in titles] == ["taken", "after"]
    assert after.envelope["id"] == _count() and _count() == 2


def test_a_lock_error_reaches_the_caller_as_503(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"connect_args": {"options": "-c lock_timeout=200"}}
    for app in _pg_app(postgres_url, monkeypatch, **options):
        holder = _hold_lock(postgres_url)
        try:
            with pytest.raises(DependencyDown) as caught:
                publish_alert(app, 1, "blocked")
        finally:
            holder.close()
        assert caught.value.status == 503
        assert caught.value.code == "dependency_unavailable"
        assert isinstance(caught.value.__cause__, OperationalError)
        assert publish_alert(app, 1, "after").envelope["id"] == 1, "the writer recovers"


def test_inline_publishes_on_postgresql_release_the_lock_they_took(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without group commit each publish is written inline. The lock must be
    # released on the connection that took it, whatever the pool hands out next.
    monkeypatch.setattr(TestingConfig, "PUBLISH_GROUP_COMMIT", False)
    for app in _pg_app(postgres_url, monkeypatch):
        assert event_log_writer.writer_for(app) is None
        idle = [db.engine.connect() for _ in range(3)]
        for connection in idle:  # the pool now holds several idle connections
            connection.close()
        publish_alert(app, 1, "one")
        other = psycopg2.connect(postgres_url)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (PUBLISH_LOCK_KEY,))
                assert cursor.fetchone() == (True,), "no pooled connection holds it"
        finally:
            other.close()
        assert _count() == 1


def test_a_lock_error_is_a_dependency_ack_on_a_live_socket(
    server_factory: Callable[..., LiveServer],
    postgres_url: str,
    sockets: SocketFactory,
) -> None:
    # The server gives up waiting for a lock after 300 ms; the ordering lock is
    # held by another session, as by a stuck process.
    live = server_factory(
        database_url=postgres_url + "?options=-c%20lock_timeout%3D300"
    )
    world = build_world(live.url, live.seed)
    session = world.api(world.msp_user).post(
        "/api/sessions", json={"title": "room", "tenant_id": world.tenant_a["id"]}
    )
    assert session.status_code == 201, session.text
    session_id = session.json()["id"]
    client = sockets().connect(live.url, world.msp_user.access_token, ["/engagement"])
    assert client.call("join_session", {"session_id": session_id})["ok"] is True
    holder = _hold_lock(postgres_url)
    try:
        ack = client.call("send_message", {"session_id": session_id, "text": "x"})
    finally:
        holder.close()
    assert ack["ok"] is False
    assert ack["error"]["code"] == "dependency_unavailable", ack
    sent = client.call("send_message", {"session_id": session_id, "text": "y"})
    assert sent["ok"] is True, "the writer recovers once the lock is free"
