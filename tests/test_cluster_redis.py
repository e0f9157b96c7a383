"""Two real server processes sharing Redis and PostgreSQL behave as one server."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, require_service
from tests.live import (
    Api,
    ServerProcess,
    SocketRecorder,
    World,
    base_env,
    build_world,
    connect_refusal,
    create_database,
    drop_database,
    login,
    prepare_database,
    run_flask,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

ALERT = {"severity": "high", "title": "cluster", "message": "reaches everyone"}


@dataclass
class Cluster:
    """Two processes on one database and one queue channel, and a fresh world."""

    one: LiveServer
    two: LiveServer
    world: World
    env: dict[str, str]


def cluster_env(redis_url: str) -> dict[str, str]:
    """Queue settings with a channel of its own, and a short heartbeat expiry."""
    return {
        "MESSAGE_QUEUE_URL": redis_url,
        "MESSAGE_QUEUE_CHANNEL": f"sb-test-{uuid.uuid4().hex[:10]}",
        "CLUSTER_HEARTBEAT_TTL": "2",
        "MAX_CONNECTIONS_PER_USER": "2",
    }


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LiveServer]]:
    """Two processes sharing a fresh PostgreSQL database and a Redis channel.

    Module-scoped (starting servers dominates the run time); each test isolates
    itself with a fresh tenant tree.
    """
    postgres = require_service("PostgreSQL", os.environ.get("TEST_POSTGRES_URL"))
    redis_url = require_service("Redis", os.environ.get("TEST_REDIS_URL"))
    database_url = create_database(postgres)
    logs: Path = tmp_path_factory.mktemp("cluster")
    env = base_env(database_url, {**cluster_env(redis_url), "TEST_LOG_DIR": str(logs)})
    processes: list[ServerProcess] = []
    try:
        seed = prepare_database(env)
        for _ in range(2):
            processes.append(ServerProcess(env).start())
        yield [LiveServer(process, seed, env) for process in processes]
    finally:
        for process in processes:
            process.stop()
        drop_database(database_url)


@pytest.fixture
def cluster(pair: list[LiveServer]) -> Cluster:
    """The module's two processes and a fresh MSP tree for this test."""
    one, two = pair
    return Cluster(one, two, build_world(one.url, one.seed), one.env)


@pytest.fixture
def sockets_on() -> Iterator[Callable[[str, str], SocketRecorder]]:
    """Connect a recorder to ``/engagement`` on one process; all closed after."""
    made: list[SocketRecorder] = []

    def connect(url: str, token: str) -> SocketRecorder:
        recorder = SocketRecorder().connect(url, token, ["/engagement"])
        recorder.wait_for("welcome")
        made.append(recorder)
        return recorder

    yield connect
    for recorder in made:
        recorder.disconnect()


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def tenant_count(server: LiveServer, token: str, tenant_id: int) -> int:
    """Connections of one tenant according to ``server``'s /ws/stats."""
    response = Api(server.url, token=token).get("/ws/stats")
    assert response.status_code == 200, response.text
    tenant = response.json()["tenants"].get(str(tenant_id), {"total": 0})
    return int(tenant["total"])


def test_publish_through_one_process_reaches_clients_on_both(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    token = cluster.world.user_a.access_token
    on_one = sockets_on(cluster.one.url, token)
    on_two = sockets_on(cluster.two.url, token)
    response = Api(cluster.one.url, api_key=cluster.world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": ALERT,
            "target": {"tenant": cluster.world.tenant_a["id"]},
        },
    )
    assert response.status_code == 202, response.text
    event_id = response.json()["id"]
    for recorder in (on_one, on_two):
        (envelope,) = recorder.wait_for("alert", lambda e: e["id"] == event_id)
        assert envelope["data"]["title"] == "cluster"


def test_flask_publish_reaches_clients_on_both_processes(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    token = cluster.world.user_a.access_token
    on_one = sockets_on(cluster.one.url, token)
    on_two = sockets_on(cluster.two.url, token)
    output = run_flask(
        cluster.env,
        "publish",
        "--namespace=/engagement",
        "--event=alert",
        f"--tenant={cluster.world.tenant_a['id']}",
        "--data=" + json.dumps(ALERT),
        "--idempotency-key=cli-1",
    )
    result = json.loads(output)
    assert result["live"] is True and isinstance(result["id"], int)
    for recorder in (on_one, on_two):
        recorder.wait_for("alert", lambda e: e["id"] == result["id"])
    history = Api(cluster.one.url, api_key=cluster.world.key_a).get(
        "/api/events", params={"namespace": "/engagement"}
    )
    assert result["id"] in [e["id"] for e in history.json()["events"]]


def test_ws_stats_and_status_agree_across_processes(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    world = cluster.world
    sockets_on(cluster.one.url, world.user_a.access_token)
    sockets_on(cluster.two.url, world.user_a.access_token)
    sockets_on(cluster.two.url, world.user_b.access_token)
    admin = world.admin.access_token
    for server in (cluster.one, cluster.two):
        assert tenant_count(server, admin, world.tenant_a["id"]) == 2
        assert tenant_count(server, admin, world.tenant_b["id"]) == 1

    def statuses() -> list[int]:
        return [
            Api(server.url).get("/ws/status").json()["active_connections"]
            for server in (cluster.one, cluster.two)
        ]

    # Other tests' sockets may still be closing: the two must agree, though.
    assert wait_until(lambda: len(set(statuses())) == 1)
    assert statuses()[0] >= 3
    msp = world.msp_user.access_token
    assert tenant_count(cluster.two, msp, world.tenant_a["id"]) == 2


def test_per_user_cap_counts_connections_on_every_process(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    token = cluster.world.user_a.access_token
    sockets_on(cluster.one.url, token)
    sockets_on(cluster.two.url, token)
    error = connect_refusal(cluster.one.url, {"token": token})
    assert error["message"] == "too_many_connections"


def test_logout_disconnects_the_tokens_sockets_on_every_process(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    member = cluster.world.add_user(cluster.world.tenant_a["id"])
    doomed = sockets_on(cluster.two.url, member.access_token)
    other = login(cluster.one.url, member.email, member.password)["access_token"]
    survivor = sockets_on(cluster.two.url, other)
    logout = Api(cluster.one.url, token=member.access_token).post("/api/auth/logout")
    assert logout.status_code == 204
    assert wait_until(lambda: not doomed.client.connected, timeout=5)
    assert survivor.client.connected


def test_killed_process_connections_vanish_from_counts(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    world = cluster.world
    admin = world.admin.access_token
    doomed = ServerProcess(cluster.env).start()
    sockets_on(cluster.one.url, world.user_b.access_token)
    victim = SocketRecorder().connect(doomed.url, world.user_b.access_token)
    victim.wait_for("welcome")
    assert tenant_count(cluster.one, admin, world.tenant_b["id"]) == 2
    doomed.kill()  # SIGKILL: no disconnect handlers run
    victim.disconnect()
    # CLUSTER_HEARTBEAT_TTL=2: gone within the expiry (plus polling slack).
    assert wait_until(
        lambda: tenant_count(cluster.one, admin, world.tenant_b["id"]) == 1, 5
    )
    assert tenant_count(cluster.two, admin, world.tenant_b["id"]) == 1
