"""Session presence and the latest GPU stats are cluster-wide (two real processes).

Runs on the two-process ``pair`` of ``test_cluster_redis`` (a fresh PostgreSQL
database, a Redis channel of its own, ``CLUSTER_HEARTBEAT_TTL=2``).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import require_service
from tests.support.cluster_pair import pair  # noqa: F401 - module-scoped fixture
from tests.support.engagement import barrier, new_session
from tests.support.server import LiveServer, ServerProcess
from tests.support.sockets import SocketRecorder
from tests.support.world import Api, Member, World, build_world
from webapp.services.cluster.message_queue import redis_client
from webapp.services.cluster.presence import PresenceChange
from webapp.services.cluster.presence.redis_store import RedisPresence
from webapp.services.cluster.state import ClusterState

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

Connect = Callable[[str, Member], SocketRecorder]


@pytest.fixture
def world(pair: list[LiveServer]) -> World:  # noqa: F811
    """A fresh tenant tree on the shared two-process cluster."""
    return build_world(pair[0].url, pair[0].seed)


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Welcomed ``/engagement`` connections to a given process; closed after."""
    made: list[SocketRecorder] = []

    def make(url: str, member: Member) -> SocketRecorder:
        recorder = SocketRecorder().connect(url, member.access_token)
        recorder.wait_for("welcome")
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.disconnect()


def join(recorder: SocketRecorder, session_id: int) -> dict[str, Any]:
    """join_session, asserting a positive ack."""
    ack = recorder.call("join_session", {"session_id": session_id})
    assert ack["ok"] is True, ack
    return dict(ack)


def leave(recorder: SocketRecorder, session_id: int) -> dict[str, Any]:
    """leave_session, asserting a positive ack."""
    ack = recorder.call("leave_session", {"session_id": session_id})
    assert ack["ok"] is True, ack
    return dict(ack)


def presence(events: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(user id, count) of user_joined / user_left envelopes."""
    return [(e["data"]["user"]["id"], e["data"]["count"]) for e in events]


def live_ids(server: LiveServer, world: World, session_id: int) -> list[int]:
    """Participant ids of GET /api/sessions/<id> on one process (count checked)."""
    response = Api(server.url, token=world.user_a.access_token).get(
        f"/api/sessions/{session_id}"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["participants"])
    return [p["id"] for p in body["participants"]]


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_three_users_on_two_processes_see_cluster_wide_presence(
    pair: list[LiveServer],  # noqa: F811
    world: World,
    connect: Connect,
) -> None:
    one, two = pair
    bob_member = world.add_user(world.tenant_a["id"])
    ann_id, bob_id, max_id = world.user_a.id, bob_member.id, world.msp_user.id
    sid = new_session(world, world.user_a)["id"]
    ann = connect(one.url, world.user_a)
    bob = connect(two.url, bob_member)
    max_ = connect(one.url, world.msp_user)

    assert join(ann, sid)["count"] == 1
    second = join(bob, sid)  # on the other process: sees Ann
    assert second["count"] == 2
    assert [p["id"] for p in second["participants"]] == [ann_id, bob_id]
    third = join(max_, sid)
    assert third["count"] == 3
    assert [p["id"] for p in third["participants"]] == [ann_id, bob_id, max_id]
    ann.wait_for("user_joined", lambda e: e["data"]["user"]["id"] == max_id)
    bob.wait_for("user_joined", lambda e: e["data"]["user"]["id"] == max_id)
    assert presence(ann.of("user_joined")) == [(bob_id, 2), (max_id, 3)]
    assert presence(bob.of("user_joined")) == [(max_id, 3)]
    for server in (one, two):
        assert live_ids(server, world, sid) == [ann_id, bob_id, max_id]

    assert leave(max_, sid)["count"] == 2
    for recorder in (ann, bob):
        (gone,) = recorder.wait_for("user_left")
        assert presence([gone]) == [(max_id, 2)]
    for server in (one, two):
        assert live_ids(server, world, sid) == [ann_id, bob_id]

    bob.disconnect()  # dropped on process two: Ann on process one hears it
    (gone,) = ann.wait_for("user_left", lambda e: e["data"]["user"]["id"] == bob_id)
    assert gone["data"]["count"] == 1
    for server in (one, two):
        assert live_ids(server, world, sid) == [ann_id]
    assert max_.of("user_left") == []


def test_a_user_with_a_tab_on_each_process_counts_once(
    pair: list[LiveServer],  # noqa: F811
    world: World,
    connect: Connect,
) -> None:
    one, two = pair
    user = world.user_a.id
    sid = new_session(world, world.user_a)["id"]
    observer = connect(one.url, world.msp_user)
    join(observer, sid)
    tab1 = connect(one.url, world.user_a)
    tab2 = connect(two.url, world.user_a)
    assert join(tab1, sid)["count"] == 2
    second_tab = join(tab2, sid)
    assert second_tab["count"] == 2
    assert sorted(p["id"] for p in second_tab["participants"]) == sorted(
        [user, world.msp_user.id]
    )
    for server in (one, two):
        assert sorted(live_ids(server, world, sid)) == sorted([user, world.msp_user.id])

    assert leave(tab1, sid)["count"] == 2  # the tab on process two is still in
    barrier(world, observer, world.key_a, world.tenant_a["id"])
    assert presence(observer.of("user_joined")) == [(user, 2)]
    assert observer.of("user_left") == []
    assert live_ids(one, world, sid) == live_ids(two, world, sid)
    assert len(live_ids(one, world, sid)) == 2

    tab2.disconnect()  # the last tab anywhere: now the user leaves
    (gone,) = observer.wait_for("user_left")
    assert presence([gone]) == [(user, 1)]
    for server in (one, two):
        assert live_ids(server, world, sid) == [world.msp_user.id]


def test_a_killed_process_participants_vanish_and_counts_self_correct(
    pair: list[LiveServer],  # noqa: F811
    world: World,
    connect: Connect,
) -> None:
    one, two = pair
    sid = new_session(world, world.user_a)["id"]
    ann = connect(one.url, world.user_a)
    join(ann, sid)
    doomed = ServerProcess(one.env).start()
    try:
        victim = connect(doomed.url, world.msp_user)
        assert join(victim, sid)["count"] == 2
        assert len(live_ids(two, world, sid)) == 2
        doomed.kill()  # SIGKILL: no disconnect handler, nobody says user_left
    finally:
        doomed.stop()
    # CLUSTER_HEARTBEAT_TTL=2: gone within the expiry (plus polling slack).
    assert wait_until(lambda: live_ids(one, world, sid) == [world.user_a.id], 5)
    assert live_ids(two, world, sid) == [world.user_a.id]
    # The next announcement carries the right count again.
    newcomer = world.add_user(world.tenant_a["id"])
    assert join(connect(two.url, newcomer), sid)["count"] == 2
    (joined,) = ann.wait_for(
        "user_joined", lambda e: e["data"]["user"]["id"] == newcomer.id
    )
    assert joined["data"]["count"] == 2


def gpu(index: int, utilization: float, host: str) -> dict[str, Any]:
    """One valid GPU reading."""
    return {
        "index": index,
        "utilization": utilization,
        "memory_used": 2048,
        "memory_total": 8192,
        "temperature": 61,
        "power": 120.5,
        "host": host,
    }


def test_gpu_stats_posted_through_one_process_are_served_by_the_other(
    pair: list[LiveServer],  # noqa: F811
    world: World,
) -> None:
    one, two = pair

    def post(server: LiveServer, *readings: dict[str, Any]) -> list[dict[str, Any]]:
        response = Api(server.url, api_key=world.key_a).post(
            "/api/system/gpu-stats", json={"gpus": list(readings)}
        )
        assert response.status_code == 202, response.text
        return list(response.json()["gpus"])

    def status(server: LiveServer) -> list[tuple[str, int, float]]:
        body = Api(server.url, token=world.user_a.access_token).get(
            "/api/system/status"
        )
        assert body.status_code == 200, body.text
        return [(g["host"], g["index"], g["utilization"]) for g in body.json()["gpus"]]

    post(one, gpu(0, 10, "rig"), gpu(1, 20, "rig"))
    post(one, gpu(0, 30, "rig"))
    # Newest wins whichever process received it: GPU 1 updated through two.
    latest = post(two, gpu(1, 70, "rig"))
    assert [(g["index"], g["utilization"]) for g in latest] == [(0, 30.0), (1, 70.0)]
    expected = [("rig", 0, 30.0), ("rig", 1, 70.0)]
    assert status(one) == status(two) == expected

    recorder = SocketRecorder().connect(two.url, world.user_a.access_token, ["/system"])
    try:
        (snapshot,) = recorder.wait_for("system_snapshot", namespace="/system")
    finally:
        recorder.disconnect()
    assert [
        (g["host"], g["index"], g["utilization"]) for g in snapshot["gpus"]
    ] == expected
    assert {g["tenant_id"] for g in snapshot["gpus"]} == {world.tenant_a["id"]}
    post(two, gpu(0, 99, "rig"))
    assert status(one)[0] == ("rig", 0, 99.0)


@pytest.fixture
def two_stores() -> Iterator[list[tuple[Flask, RedisPresence]]]:
    """Two in-process presence stores acting as two processes on one Redis."""
    url = require_service("Redis", os.environ.get("TEST_REDIS_URL"))
    prefix = f"sb-test-{uuid.uuid4().hex[:10]}"
    client = redis_client(url)
    made = []
    for _ in range(2):
        app = Flask(__name__)
        state = ClusterState(client, prefix, ttl=5)
        state.start(lambda _loop: None, lambda _seconds: None)  # one heartbeat
        app.extensions["switchboard.cluster"] = state
        made.append((app, RedisPresence(state)))
    yield made
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_concurrent_tabs_on_two_processes_announce_a_user_exactly_once(
    two_stores: list[tuple[Flask, RedisPresence]],
) -> None:
    ann = {"id": 1, "name": "Ann"}

    def race(action: Callable[[RedisPresence, str], Any]) -> list[PresenceChange]:
        start = threading.Barrier(2)
        results: list[PresenceChange] = []

        def run(app: Flask, store: RedisPresence, sid: str) -> None:
            with app.app_context():
                start.wait()
                results.append(action(store, sid))

        threads = [
            threading.Thread(target=run, args=(app, store, f"tab-{n}"))
            for n, (app, store) in enumerate(two_stores)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        return results

    for session_id in range(1, 21):
        joined = race(lambda store, sid, s=session_id: store.join(s, sid, ann))
        # Exactly one "first tab anywhere"; both see one user.
        assert sorted((c.changed, c.count) for c in joined) == [(False, 1), (True, 1)]
        left = race(lambda store, sid, s=session_id: store.leave(s, sid))
        # Exactly one "last tab anywhere", and it leaves nobody behind.
        assert sorted((c.changed, c.count) for c in left) == [(False, 1), (True, 0)]
        for _app, store in two_stores:
            assert store.participants(session_id) == []
