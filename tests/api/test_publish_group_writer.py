"""The group writer: one commit for many concurrent publishes, nothing lost or doubled.

In-process tests run the writer as a real thread (threading mode) on a SQLite
file; live tests run it in the real server (eventlet).
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import require_service
from tests.support.private_redis import PrivateRedis
from tests.support.publish_writer import alert_request, file_app, publish_alert
from tests.support.server import LiveServer
from tests.support.sockets import SocketFactory
from tests.support.world import Api, World, build_world
from webapp.errors import Conflict
from webapp.extensions import db
from webapp.models import Event, Tenant
from webapp.services.delivery import log_writer as event_log_writer

__all__ = ["file_app"]  # a fixture, used by name

THREADS = 8
PER_THREAD = 20


def _in_threads(count: int, target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_publishes_share_commits_and_keep_every_event(
    file_app: Flask,
) -> None:
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda _conn: commits.append(1))
    ids: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        barrier.wait()
        for n in range(PER_THREAD):
            result = publish_alert(file_app, 1, f"{index}-{n}")
            with lock:
                ids.append(result.envelope["id"])

    commits.clear()
    _in_threads(THREADS, worker)
    total = THREADS * PER_THREAD
    assert len(set(ids)) == total
    stored = db.session.scalars(select(Event.id).order_by(Event.id)).all()
    assert sorted(ids) == list(stored)
    assert len(commits) < total, "concurrent publishes must share commits"


def test_one_idempotency_key_from_many_threads_is_one_event(file_app: Flask) -> None:
    key = uuid.uuid4().hex
    outcomes: list[Any] = [None] * 16
    barrier = threading.Barrier(16)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            # Even threads send one body, odd threads another: one body wins.
            outcomes[index] = publish_alert(file_app, 1, f"body-{index % 2}", key)
        except Conflict as exc:
            outcomes[index] = exc

    _in_threads(16, worker)
    stored = db.session.scalars(select(Event).where(Event.idempotency_key == key)).all()
    assert len(stored) == 1
    winner = stored[0]
    for index, outcome in enumerate(outcomes):
        if f"body-{index % 2}" == winner.data["title"]:
            assert outcome.envelope["id"] == winner.id, "every repeat gets the one id"
        else:
            assert isinstance(outcome, Conflict)
            assert outcome.code == "idempotency_conflict"
    assert (
        sum(1 for o in outcomes if not isinstance(o, Conflict) and not o.duplicate) == 1
    )


def test_a_failing_group_loses_and_duplicates_nothing_of_the_others(
    file_app: Flask,
) -> None:
    good_one = event_log_writer.Ticket([alert_request(1, "a"), alert_request(1, "b")])
    bad = event_log_writer.Ticket(
        [alert_request(1, "c"), alert_request(999, "no tenant")]
    )
    good_two = event_log_writer.Ticket([alert_request(2, "d", key="k")])
    with db.engine.connect() as connection:
        event_log_writer.process([good_one, bad, good_two], connection)
    assert isinstance(bad.error, IntegrityError) and bad.results is None
    assert good_one.error is None and good_two.error is None
    assert good_one.results is not None and good_two.results is not None
    ids = [r.envelope["id"] for r in good_one.results + good_two.results]
    assert ids == sorted(ids) and len(set(ids)) == 3
    titles = db.session.scalars(select(Event.data).order_by(Event.id)).all()
    assert [t["title"] for t in titles] == ["a", "b", "d"], "c went with its ticket"
    assert db.session.scalar(select(func.count(Event.id))) == 3


def _group_metric(url: str) -> tuple[float, float]:
    """(groups committed, events in them) from /metrics."""
    values = {"count": 0.0, "sum": 0.0}
    for line in Api(url).get("/metrics").text.splitlines():
        for suffix in values:
            if line.startswith(f"switchboard_publish_group_events_{suffix} "):
                values[suffix] = float(line.split()[1])
    return values["count"], values["sum"]


def test_concurrent_publishers_reach_a_client_in_id_order_in_shared_commits(
    world: World, sockets: SocketFactory
) -> None:
    client = sockets().connect(world.url, world.user_a.access_token, ["/engagement"])
    groups_before, events_before = _group_metric(world.url)
    ids: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        api = Api(world.url, api_key=world.key_a)
        for n in range(10):
            response = api.post(
                "/api/publish",
                json={
                    "namespace": "/engagement",
                    "event": "alert",
                    "data": {"title": f"{index}-{n}", "severity": "low"},
                    "target": {"tenant": world.tenant_a["id"]},
                },
            )
            assert response.status_code == 202, response.text
            with lock:
                ids.append(response.json()["id"])

    _in_threads(THREADS, worker)
    received = client.wait_for("alert", count=len(ids))
    assert [e["id"] for e in received] == sorted(ids)
    groups, events = _group_metric(world.url)
    assert events - events_before == len(ids)
    assert groups - groups_before < len(ids), "the real server groups commits"


def test_queue_down_is_503_for_every_concurrent_publish_and_stores_nothing(
    server_factory: Callable[..., LiveServer], tmp_path: Path
) -> None:
    require_service("redis-server", shutil.which("redis-server"))
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        server = server_factory({"MESSAGE_QUEUE_URL": redis.url})
        world = build_world(server.url, server.seed)
        api = Api(server.url, api_key=world.key_a)
        body = {
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": "x", "severity": "low"},
            "target": {"tenant": world.tenant_a["id"]},
        }
        assert api.post("/api/publish", json=body).status_code == 202
        before = api.get("/api/events").json()["events"]
        redis.stop()
        time.sleep(1.5)  # past the queue check's cache: the next publish pings
        statuses: list[int] = []

        def worker(_index: int) -> None:
            response = Api(server.url, api_key=world.key_a).post(
                "/api/publish", json=body
            )
            statuses.append(response.status_code)
            assert response.json()["error"]["code"] == "dependency_unavailable"

        _in_threads(THREADS, worker)
        assert statuses == [503] * THREADS
        assert api.get("/api/events").json()["events"] == before, "nothing persisted"
    finally:
        redis.stop()


def test_in_memory_apps_write_inline_with_the_same_rules(app: Flask) -> None:
    # The in-memory database is one shared connection: no writer thread there.
    db.session.add(Tenant(name="inline", kind="client"))
    db.session.commit()
    assert event_log_writer.writer_for(app) is None
    first = publish_alert(app, 1, "one", "k")
    assert publish_alert(app, 1, "one", "k").envelope["id"] == first.envelope["id"]
    with pytest.raises(Conflict):
        publish_alert(app, 1, "two", "k")
    assert publish_alert(app, 1, "three").envelope["id"] > first.envelope["id"]
    assert db.session.scalar(select(func.count(Event.id))) == 2


def test_a_burst_larger_than_the_pool_does_not_starve_the_writer(
    server_factory: Callable[..., LiveServer], postgres_url: str
) -> None:
    # 2 pooled connections + 4 overflow, 30 publishers at once, the writer not yet
    # started: waiting requests must not hold every connection the writer needs.
    server = server_factory({"DB_POOL_SIZE": "2"}, database_url=postgres_url)
    world = build_world(server.url, server.seed)
    statuses: list[int] = []

    def worker(index: int) -> None:
        response = Api(server.url, api_key=world.key_a).post(
            "/api/publish",
            json={
                "namespace": "/engagement",
                "event": "alert",
                "data": {"title": f"burst-{index}", "severity": "low"},
                "target": {"tenant": world.tenant_a["id"]},
            },
        )
        statuses.append(response.status_code)

    _in_threads(30, worker)
    assert statuses == [202] * 30
