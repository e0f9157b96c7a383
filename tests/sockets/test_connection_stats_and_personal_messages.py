"""Source 000 (MSP/client engagement channel) on /engagement and /ws/stats.

What the old ConnectionManager suite tested beyond tests/test_engagement_*.py:
an MSP connection's cleanup, a personal message to one user's connections, and
the stats endpoint's authentication.
"""

from __future__ import annotations

import time
from typing import Any

from tests.support.engagement import barrier
from tests.support.events import Sockets
from tests.support.world import Api, World


def _stats_row(world: World, tenant_id: int) -> dict[str, Any]:
    stats = world.api(world.msp_user).get("/ws/stats").json()
    return dict(stats["tenants"][str(tenant_id)])


def test_an_msp_connection_is_counted_and_cleaned_up_on_disconnect(
    world: World, sockets: Sockets
) -> None:
    msp = world.msp_tenant["id"]
    assert _stats_row(world, msp)["total"] == 0
    staff = sockets().connect(
        world.url, world.msp_user.access_token, ["/engagement", "/dashboard"]
    )
    staff.wait_for("welcome", namespace="/engagement")
    assert _stats_row(world, msp) == {
        "total": 2,
        "namespaces": {"/engagement": 1, "/dashboard": 1},
    }
    staff.disconnect()
    deadline = time.monotonic() + 5
    while _stats_row(world, msp)["total"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _stats_row(world, msp) == {"total": 0, "namespaces": {}}
    # Broadcasts to the MSP's rooms still work with nobody listening.
    response = world.api(world.key_msp).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": "nobody home"},
            "target": {"msp": msp},
        },
    )
    assert response.status_code == 202, response.text


def test_a_personal_message_reaches_every_connection_of_its_user_and_nobody_else(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    colleague = world.add_user(a)
    tabs = [sockets().connect(world.url, world.user_a.access_token) for _ in range(2)]
    other = sockets().connect(world.url, colleague.access_token)
    staff = sockets().connect(world.url, world.msp_user.access_token)
    response = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": "just for you"},
            "target": {"user": world.user_a.id},
        },
    )
    assert response.status_code == 202, response.text
    assert response.json()["room"] == f"user:{world.user_a.id}"
    for tab in tabs:
        (alert,) = tab.wait_for("alert", lambda e: e["data"]["title"] == "just for you")
        assert alert["id"] == response.json()["id"]
        assert alert["room"] == f"user:{world.user_a.id}" and alert["tenant_id"] == a
    for bystander in (other, staff):
        barrier(world, bystander, world.key_a, a)
        titles = [e["data"]["title"] for e in bystander.of("alert")]
        assert "just for you" not in titles


def test_ws_stats_needs_authentication_and_shows_admins_every_tenant(
    world: World, sockets: Sockets
) -> None:
    for api in (Api(world.url), Api(world.url, token="garbage")):
        response = api.get("/ws/stats")
        assert response.status_code == 401
        assert response.json()["error"]["code"]
    refused = Api(world.url, token=world.user_a.refresh_token).get("/ws/stats")
    assert refused.status_code in (401, 422)
    sockets().connect(world.url, world.user_b.access_token, ["/engagement"])
    stats = world.api(world.admin).get("/ws/stats").json()
    assert stats["tenants"][str(world.tenant_b["id"])] == {
        "total": 1,
        "namespaces": {"/engagement": 1},
    }
    assert stats["total"] >= 1 and stats["namespaces"]["/engagement"] >= 1
