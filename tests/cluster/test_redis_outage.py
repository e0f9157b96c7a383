"""Redis goes down and comes back: the cluster degrades to 503s and recovers.

Uses a private ``redis-server`` on a free port, so the shared Redis is untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import LiveServer
from tests.support.private_redis import PrivateRedis, private_redis, publish
from tests.support.sockets import SocketRecorder
from tests.support.world import Api, build_world

pytestmark = pytest.mark.redis

__all__ = ["private_redis"]  # the fixture, imported for these tests


def test_redis_outage_answers_503_and_delivery_resumes_after_restart(
    server_factory: Callable[..., LiveServer],
    private_redis: PrivateRedis,
) -> None:
    extra = {
        "MESSAGE_QUEUE_URL": private_redis.url,
        "MESSAGE_QUEUE_RETRY_MAX": "1",
        "CLUSTER_HEARTBEAT_TTL": "3",
    }
    one = server_factory(extra)
    two = server_factory(extra, seed=False)  # same SQLite file as ``one``
    world = build_world(one.url, one.seed)
    tenant = world.tenant_a["id"]
    clients = [
        SocketRecorder().connect(server.url, world.user_a.access_token)
        for server in (one, two)
    ]
    try:
        first = publish(one, world.key_a, tenant)
        assert first.status_code == 202, first.text
        for client in clients:
            client.wait_for("alert", lambda e: e["id"] == first.json()["id"])

        private_redis.stop()
        # Within ~1 s of the last good check a publish may commit before the emit
        # fails: the 503 then says it was persisted (replayable). After that the
        # queue is checked first and nothing is written.
        expected = [first.json()["id"]]
        for _ in range(2):
            down = publish(one, world.key_a, tenant)
            assert down.status_code == 503, down.text
            error = down.json()["error"]
            assert error["code"] == "dependency_unavailable"
            if (error.get("details") or {}).get("persisted"):
                expected.append(error["details"]["id"])
        assert not (error.get("details") or {}).get("persisted")
        history = Api(one.url, api_key=world.key_a).get("/api/events").json()
        assert [e["id"] for e in history["events"]] == expected
        assert Api(one.url).get("/ready").status_code == 503
        stats = Api(one.url, token=world.admin.access_token).get("/ws/stats")
        assert stats.status_code == 503
        time.sleep(1.5)  # clients stay connected while the queue is down
        assert all(client.client.connected for client in clients)

        private_redis.start()
        # Publish until the other process has resubscribed and delivers again.
        deadline = time.monotonic() + 15
        delivered = None
        while delivered is None and time.monotonic() < deadline:
            response = publish(one, world.key_a, tenant)
            if response.status_code == 202:
                event_id = response.json()["id"]
                try:
                    for client in clients:  # both processes resubscribed
                        client.wait_for(
                            "alert", lambda e, i=event_id: e["id"] == i, timeout=1
                        )
                    delivered = event_id
                except AssertionError:
                    pass
            else:
                time.sleep(0.3)
        assert delivered is not None, "delivery did not resume after Redis restarted"
        clients[0].wait_for("alert", lambda e: e["id"] == delivered)
        # The registry was lost with Redis; each process's heartbeat rewrote it.
        admin = Api(two.url, token=world.admin.access_token)

        def tenant_total() -> int:
            response = admin.get("/ws/stats")
            if response.status_code != 200:
                return -1
            found = response.json()["tenants"].get(str(tenant), {"total": 0})
            return int(found["total"])

        deadline = time.monotonic() + 5
        while tenant_total() != 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert tenant_total() == 2
    finally:
        for client in clients:
            client.disconnect()


def test_a_frozen_redis_answers_503_and_every_accepted_event_arrives_once(
    server_factory: Callable[..., LiveServer],
    private_redis: PrivateRedis,
) -> None:
    one = server_factory(
        {
            "MESSAGE_QUEUE_URL": private_redis.url,
            "MESSAGE_QUEUE_RETRY_MAX": "1",
            "CLUSTER_HEARTBEAT_TTL": "3",
        }
    )
    world = build_world(one.url, one.seed)
    tenant = world.tenant_a["id"]
    client = SocketRecorder().connect(one.url, world.user_a.access_token)
    try:
        first = publish(one, world.key_a, tenant)
        assert first.status_code == 202, first.text
        accepted = [first.json()["id"]]
        client.wait_for("alert", lambda e: e["id"] == accepted[0])

        private_redis.freeze()
        try:
            # Eight integrations publishing at once. A late 202 (waiting out the
            # freeze) shows up as a client timeout: the answer must come first.
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(
                        lambda _: publish(one, world.key_a, tenant, timeout=6),
                        range(8),
                    )
                )
        finally:
            private_redis.thaw()
        assert [a.status_code for a in answers] == [503] * 8
        assert all(
            a.json()["error"]["code"] == "dependency_unavailable" for a in answers
        )

        deadline = time.monotonic() + 15
        while len(accepted) < 4 and time.monotonic() < deadline:
            response = publish(one, world.key_a, tenant, timeout=4)
            if response.status_code == 202:
                accepted.append(response.json()["id"])
            else:
                assert response.status_code == 503, response.text
                time.sleep(0.2)
        assert len(accepted) == 4, "publishing did not resume after the thaw"
        client.wait_for("alert", lambda e: e["id"] == accepted[-1])
        time.sleep(1)  # room for a late second copy to arrive
        delivered = [event["id"] for event in client.of("alert")]
        assert all(delivered.count(event_id) == 1 for event_id in accepted), delivered
        assert len(delivered) == len(set(delivered)), delivered
    finally:
        client.disconnect()
