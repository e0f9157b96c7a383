"""Who may acknowledge and resolve an alert over REST: the rule the page follows."""

from __future__ import annotations

import pytest

from tests.conftest import LiveServer
from tests.support.dashboard_page import Activity, ok
from tests.support.world import World, build_world

ACTIONS = [
    ("PATCH", "/api/dashboard/alerts/{id}", {"status": "acknowledged"}),
    ("POST", "/api/dashboard/alerts/{id}/acknowledge", None),
    ("POST", "/api/dashboard/alerts/{id}/resolve", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ACTIONS)
def test_client_users_get_403_with_the_error_shape_and_the_alert_stays_open(
    world: World, method: str, path: str, body: dict[str, str] | None
) -> None:
    alert_id = Activity(world, world.key_a, world.tenant_a["id"]).alert("x")
    client = world.api(world.user_a)
    response = client.request(method, path.format(id=alert_id), json=body)
    assert response.status_code == 403, response.text
    assert response.json() == {
        "error": {"code": "forbidden", "message": "your role may not do this"}
    }
    # Seeing the alert is still allowed, and nothing changed.
    seen = ok(client.get(f"/api/dashboard/alerts/{alert_id}"), 200)
    assert seen["status"] == "open"


def test_msp_staff_admins_and_integrations_move_alerts(world: World) -> None:
    a = Activity(world, world.key_a, world.tenant_a["id"])
    first, second, third = (a.alert(f"alert {n}") for n in range(3))
    msp = world.api(world.msp_user)
    moved = ok(msp.post(f"/api/dashboard/alerts/{first}/acknowledge"), 200)
    assert moved["status"] == "acknowledged"
    admin = world.api(world.admin)
    assert ok(admin.post(f"/api/dashboard/alerts/{second}/resolve"), 200)["status"] == (
        "resolved"
    )
    key = world.api(world.key_a)
    patched = ok(
        key.patch(f"/api/dashboard/alerts/{third}", json={"status": "acknowledged"}),
        200,
    )
    assert patched["status"] == "acknowledged"


def test_another_msps_staff_cannot_touch_the_alert(
    server: LiveServer, world: World
) -> None:
    alert_id = Activity(world, world.key_a, world.tenant_a["id"]).alert("mine")
    other = build_world(server.url, server.seed)
    stranger = world.api(other.msp_user)
    for method, path, body in ACTIONS:
        response = stranger.request(method, path.format(id=alert_id), json=body)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    still = ok(world.api(world.key_a).get(f"/api/dashboard/alerts/{alert_id}"), 200)
    assert still["status"] == "open"
