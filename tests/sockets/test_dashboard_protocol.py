"""/dashboard protocol: ping, bad input, many connections, server-only events.

These tests do not depend on a tenant's data, so they share one world.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.support.sockets import SocketRecorder
from tests.support.world import World, build_world

DASH = "/dashboard"


@pytest.fixture(scope="module")
def shared_world(server: LiveServer) -> World:
    """One fresh MSP tree for this module (its tests leave no state that matters)."""
    return build_world(server.url, server.seed)


def test_ping_is_acked_with_pong_and_server_time(
    shared_world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    recorder = sockets().connect(
        shared_world.url, shared_world.user_a.access_token, [DASH]
    )
    ack = recorder.call("ping", namespace=DASH)
    assert ack["ok"] is True and ack["pong"] is True
    assert ack["server_time"].endswith("Z")
    assert recorder.call("ping", {"any": "thing"}, namespace=DASH)["pong"] is True


def test_many_dashboards_each_get_a_snapshot_and_are_counted(
    shared_world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    def active() -> int:
        return int(shared_world.api().get("/ws/status").json()["active_connections"])

    def settle(expected: int) -> None:
        deadline = time.monotonic() + 5
        while active() != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert active() == expected

    before = active()
    clients = [
        sockets().connect(shared_world.url, shared_world.user_a.access_token, [DASH])
        for _ in range(10)
    ]
    for client in clients:
        client.wait_for("analytics_update", namespace=DASH)
    settle(before + 10)
    for client in clients[:5]:
        client.disconnect()
    settle(before + 5)
    for client in clients[5:]:
        assert client.call("ping", namespace=DASH)["pong"] is True


def test_analytics_update_cannot_be_published_by_integrations(
    shared_world: World,
) -> None:
    response = shared_world.api(shared_world.key_a).post(
        "/api/publish",
        json={
            "namespace": DASH,
            "event": "analytics_update",
            "data": {"tenant_id": 1, "generated_at": "x", "totals": {}, "tenants": []},
            "target": {"tenant": shared_world.tenant_a["id"]},
        },
    )
    assert response.status_code == 403


def test_bad_dashboard_input_gets_error_responses(
    shared_world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    api = shared_world.api(shared_world.user_a)
    assert api.post("/api/dashboard/alerts", json={"title": ""}).status_code == 400
    bad_severity = api.post(
        "/api/dashboard/alerts", json={"title": "t", "severity": "apocalyptic"}
    )
    assert bad_severity.status_code == 400
    assert api.get("/api/dashboard/alerts?status=nope").status_code == 400
    assert api.get("/api/dashboard/interventions/999999").status_code == 404
    assert shared_world.api().get("/api/dashboard/alerts").status_code == 401
    recorder = sockets().connect(
        shared_world.url, shared_world.user_a.access_token, [DASH]
    )
    ack = recorder.call("no_such_event", {}, namespace=DASH)
    assert ack["ok"] is False and ack["error"]["code"] == "unknown_event"
