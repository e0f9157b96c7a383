"""switchboard_dependency_* and events_dropped follow a real Redis going away.

A private ``redis-server`` (tests/cluster/test_redis_outage.py) is stopped and started
under a live server whose probe runs every 0.3 s.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.support.ops import ADMIN_UI_ENV, scrape, value, wait_for_value
from tests.support.private_redis import PrivateRedis, private_redis, publish
from tests.support.sockets import SocketRecorder
from tests.support.world import build_world

__all__ = ["private_redis"]  # the fixture, re-used
pytestmark = pytest.mark.redis

UP = "switchboard_dependency_up"


def test_dependency_gauges_follow_redis_down_and_up(
    server_factory: Callable[..., LiveServer], private_redis: PrivateRedis
) -> None:
    live = server_factory(
        {"MESSAGE_QUEUE_URL": private_redis.url, "DEPENDENCY_PROBE_INTERVAL": "0.3"}
    )
    queue = {"dependency": "message_queue"}
    assert wait_for_value(live.url, UP, lambda v: v == 1, **queue) == 1
    families = scrape(live.url)
    assert value(families, UP, dependency="database") == 1
    latency = "switchboard_dependency_latency_seconds"
    assert 0 < value(families, latency, **queue) < 1
    stamp = "switchboard_dependency_last_probe_timestamp_seconds"
    first = value(families, stamp, **queue)
    assert wait_for_value(live.url, stamp, lambda v: v > first, **queue)

    private_redis.stop()
    assert wait_for_value(live.url, UP, lambda v: v == 0, **queue) == 0
    assert value(scrape(live.url), UP, dependency="database") == 1  # only Redis

    private_redis.start()
    assert wait_for_value(live.url, UP, lambda v: v == 1, **queue) == 1


def test_an_event_persisted_but_not_emitted_is_counted_dropped(
    server_factory: Callable[..., LiveServer], private_redis: PrivateRedis
) -> None:
    live = server_factory({"MESSAGE_QUEUE_URL": private_redis.url})
    world = build_world(live.url, live.seed)
    tenant = world.tenant_a["id"]
    dropped = {"namespace": "/engagement", "reason": "emit_failed"}
    counter = "switchboard_events_dropped_total"
    assert value(scrape(live.url), counter, **dropped) == 0
    # Right after a good publish the queue counts as up for about a second, so
    # the next publish commits and only its emit fails: persisted, not emitted.
    persisted = []
    for _attempt in range(3):
        assert publish(live, world.key_a, tenant).status_code == 202
        private_redis.stop()
        answer = publish(live, world.key_a, tenant)
        assert answer.status_code == 503, answer.text
        details = answer.json()["error"].get("details") or {}
        if details.get("persisted"):
            persisted.append(details["id"])
            break
        private_redis.start()
        wait_for_value(
            live.url, UP, lambda v: v == 1, dependency="message_queue", timeout=15
        )
    assert persisted, "no publish got as far as the emit"
    assert value(scrape(live.url), counter, **dropped) == len(persisted)


def test_with_the_admin_ui_on_clients_still_connect_while_redis_is_down(
    server_factory: Callable[..., LiveServer], private_redis: PrivateRedis
) -> None:
    """The UI's reports go through the queue too; their failure must not break a
    connect that succeeds without the UI (clients stay served while Redis is down)."""
    live = server_factory({**ADMIN_UI_ENV, "MESSAGE_QUEUE_URL": private_redis.url})
    world = build_world(live.url, live.seed)
    private_redis.stop()
    client = SocketRecorder().connect(live.url, world.user_a.access_token)
    try:
        client.wait_for("welcome")
    finally:
        client.disconnect()
    assert "Traceback" not in live.process.log()


def test_a_repeated_queue_copy_is_counted_dropped_as_a_duplicate(
    server_factory: Callable[..., LiveServer], redis_url: str
) -> None:
    """Two copies of one persisted event on the queue: delivered once, one dropped."""
    import socketio

    channel = f"sb-test-{uuid.uuid4().hex[:10]}"
    live = server_factory(
        {"MESSAGE_QUEUE_URL": redis_url, "MESSAGE_QUEUE_CHANNEL": channel}
    )
    world = build_world(live.url, live.seed)
    client = SocketRecorder().connect(live.url, world.user_a.access_token)
    counter = "switchboard_events_dropped_total"
    duplicate = {"namespace": "/engagement", "reason": "duplicate"}
    try:
        client.wait_for("welcome")
        assert value(scrape(live.url), counter, **duplicate) == 0
        room = f"tenant:{world.tenant_a['id']}"
        envelope = {
            "id": 10**12,  # above anything persisted: delivered the first time
            "type": "alert",
            "namespace": "/engagement",
            "tenant_id": world.tenant_a["id"],
            "room": room,
            "data": {"severity": "low", "title": "twice", "message": "on the queue"},
            "timestamp": "2026-01-01T00:00:00Z",
        }
        queue = socketio.RedisManager(redis_url, channel=channel, write_only=True)
        for _copy in range(2):
            queue.emit("alert", envelope, namespace="/engagement", room=room)
        client.wait_for("alert", lambda event: event["id"] == envelope["id"])
        assert wait_for_value(live.url, counter, lambda v: v == 1, **duplicate) == 1
        assert len(client.of("alert")) == 1
    finally:
        client.disconnect()
