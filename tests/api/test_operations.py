"""Health, readiness, metrics and socket statistics."""

from __future__ import annotations

import time

from tests.support.sockets import SocketFactory
from tests.support.world import Api, World


def test_health_and_ready(world: World) -> None:
    assert Api(world.url).get("/health").json() == {"status": "ok"}
    ready = Api(world.url).get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["ok"] is True


def test_ws_status_is_public_and_has_no_tenant_data(world: World) -> None:
    body = Api(world.url).get("/ws/status").json()
    assert set(body) == {"status", "active_connections"}


def test_ws_stats_counts_connect_and_disconnect(
    world: World, sockets: SocketFactory
) -> None:
    api = world.api(world.msp_user)
    tenant = str(world.tenant_a["id"])
    before = api.get("/ws/stats").json()
    assert before["tenants"][tenant]["total"] == 0
    client = sockets().connect(
        world.url, world.user_a.access_token, ["/engagement", "/events"]
    )
    during = api.get("/ws/stats").json()
    assert during["tenants"][tenant] == {
        "total": 2,
        "namespaces": {"/engagement": 1, "/events": 1},
    }
    assert during["total"] == before["total"] + 2
    client.disconnect()
    deadline = time.monotonic() + 5
    while (
        api.get("/ws/stats").json()["tenants"][tenant]["total"]
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert api.get("/ws/stats").json()["tenants"][tenant]["total"] == 0


def test_ws_stats_shows_msp_only_its_tenants_and_refuses_clients(world: World) -> None:
    stats = world.api(world.msp_user).get("/ws/stats").json()
    assert set(stats["tenants"]) == {
        str(world.msp_tenant["id"]),
        str(world.tenant_a["id"]),
        str(world.tenant_b["id"]),
    }
    assert world.api(world.user_a).get("/ws/stats").status_code == 403


def test_metrics_exposes_prometheus_text(world: World, sockets: SocketFactory) -> None:
    sockets().connect(world.url, world.user_a.access_token, ["/engagement"])
    response = Api(world.url).get("/metrics")
    assert response.status_code == 200
    assert "text/plain" in response.headers["Content-Type"]
    assert 'switchboard_connections{namespace="/engagement"}' in response.text
