"""Two real server processes sharing Redis and PostgreSQL behave as one server."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.support.cluster_pair import (  # noqa: F401 - fixtures
    Cluster,
    cluster,
    cluster_env,
    pair,
    sockets_on,
    wait_until,
)
from tests.support.server import (
    ServerProcess,
    run_flask,
)
from tests.support.sockets import SocketRecorder, connect_refusal
from tests.support.world import Api, login

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
__all__ = ["cluster", "pair", "sockets_on"]  # fixtures used by name

ALERT = {"severity": "high", "title": "cluster", "message": "reaches everyone"}


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
