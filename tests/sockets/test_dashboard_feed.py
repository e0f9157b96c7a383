"""/dashboard live feed: alert, intervention, metrics_update reach only the tenant.

Isolation is checked with a sentinel: after the events for tenant A, one event is
sent to tenant B; once B's dashboard has the sentinel, anything for A would have
arrived before it (one connection receives in order).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.sockets import SocketRecorder
from tests.support.world import World

DASH = "/dashboard"


def connect_dashboards(
    world: World, sockets: Callable[..., SocketRecorder]
) -> tuple[SocketRecorder, SocketRecorder, SocketRecorder]:
    """Dashboards of user A, user B and the MSP user, each past its first snapshot."""
    recorders = tuple(
        sockets().connect(world.url, member.access_token, [DASH])
        for member in (world.user_a, world.user_b, world.msp_user)
    )
    for recorder in recorders:
        recorder.wait_for("analytics_update", namespace=DASH)
    a, b, msp = recorders
    return a, b, msp


def sentinel(world: World, recorder: SocketRecorder) -> None:
    """Raise a marker alert for tenant B and wait until B's dashboard has it."""
    response = world.api(world.key_b).post(
        "/api/dashboard/alerts", json={"title": "sentinel"}
    )
    assert response.status_code == 201
    recorder.wait_for("alert", lambda env: env["data"]["title"] == "sentinel", DASH)


def titles(recorder: SocketRecorder, event: str) -> list[Any]:
    """Alert titles (or intervention titles) a dashboard received."""
    payloads = [env["data"] for env in recorder.of(event, DASH)]
    if event == "intervention":
        return [data["intervention"]["title"] for data in payloads]
    return [data.get("title") for data in payloads]


def test_alert_reaches_only_the_tenants_dashboards(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    a, b, msp = connect_dashboards(world, sockets)
    second_a = sockets().connect(world.url, world.user_a.access_token, [DASH])
    response = world.api(world.key_a).post(
        "/api/dashboard/alerts",
        json={"title": "Disk full", "severity": "critical", "message": "/var 98%"},
    )
    assert response.status_code == 201
    alert = response.json()
    for recorder in (a, second_a, msp):
        (envelope,) = recorder.wait_for("alert", namespace=DASH)
        assert envelope["id"] > 0
        assert envelope["room"] == f"tenant:{world.tenant_a['id']}"
        assert envelope["data"]["alert_id"] == alert["alert_id"]
        assert envelope["data"]["status"] == "open"
        assert envelope["data"]["severity"] == "critical"
    sentinel(world, b)
    assert titles(b, "alert") == ["sentinel"]


def test_alert_acknowledge_and_resolve_are_published_and_checked(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    a, b, _msp = connect_dashboards(world, sockets)
    # Tenant A's integration: client users may not change an alert's status.
    api = world.api(world.key_a)
    alert_id = api.post("/api/dashboard/alerts", json={"title": "x"}).json()["alert_id"]
    ack = api.post(f"/api/dashboard/alerts/{alert_id}/acknowledge")
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = api.post(f"/api/dashboard/alerts/{alert_id}/acknowledge")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"
    assert api.post(f"/api/dashboard/alerts/{alert_id}/resolve").status_code == 200
    reopen = api.patch(f"/api/dashboard/alerts/{alert_id}", json={"status": "open"})
    assert reopen.status_code == 400
    statuses = [
        env["data"]["status"] for env in a.wait_for("alert", namespace=DASH, count=3)
    ]
    assert statuses == ["open", "acknowledged", "resolved"]
    listed = api.get("/api/dashboard/alerts?status=resolved").json()["alerts"]
    assert [item["alert_id"] for item in listed] == [alert_id]
    # Tenant B can neither see nor change A's alert, nor raise one for A.
    api_b = world.api(world.user_b)
    assert api_b.get(f"/api/dashboard/alerts/{alert_id}").status_code == 404
    resolve_b = world.api(world.key_b).post(f"/api/dashboard/alerts/{alert_id}/resolve")
    assert resolve_b.status_code == 404
    assert api_b.get("/api/dashboard/alerts").json()["alerts"] == []
    foreign = api_b.post(
        "/api/dashboard/alerts",
        json={"title": "into A", "tenant_id": world.tenant_a["id"]},
    )
    assert foreign.status_code == 404
    sentinel(world, b)
    assert titles(b, "alert") == ["sentinel"]


def test_msp_sees_and_raises_alerts_for_its_clients(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    a, b, msp = connect_dashboards(world, sockets)
    api = world.api(world.msp_user)
    response = api.post(
        "/api/dashboard/alerts",
        json={"title": "for A", "tenant_id": world.tenant_a["id"]},
    )
    assert response.status_code == 201
    assert response.json()["tenant_id"] == world.tenant_a["id"]
    a.wait_for("alert", namespace=DASH)
    msp.wait_for("alert", namespace=DASH)
    listed = api.get("/api/dashboard/alerts").json()["alerts"]
    assert [item["title"] for item in listed] == ["for A"]
    sentinel(world, b)
    assert titles(b, "alert") == ["sentinel"]


def test_intervention_lifecycle_is_published_and_invalid_moves_are_409(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    a, b, msp = connect_dashboards(world, sockets)
    api = world.api(world.user_a)
    alert_id = api.post("/api/dashboard/alerts", json={"title": "x"}).json()["alert_id"]
    created = api.post(
        "/api/dashboard/interventions",
        json={"title": "Call the client", "assignee": "ann", "alert_id": alert_id},
    )
    assert created.status_code == 201
    item = created.json()
    assert item["status"] == "open" and item["alert_id"] == alert_id
    path = f"/api/dashboard/interventions/{item['id']}"
    skip = api.patch(path, json={"status": "done"})
    assert skip.status_code == 409
    assert skip.json()["error"]["code"] == "invalid_transition"
    assert api.patch(path, json={"status": "in_progress"}).status_code == 200
    assert api.patch(path, json={"status": "open"}).status_code == 409
    assert api.patch(path, json={"status": "done"}).status_code == 200
    assert api.patch(path, json={"status": "in_progress"}).status_code == 409
    for recorder in (a, msp):
        envelopes = recorder.wait_for("intervention", namespace=DASH, count=3)
        assert [env["data"]["intervention"]["status"] for env in envelopes] == [
            "open",
            "in_progress",
            "done",
        ]
    listed = api.get("/api/dashboard/interventions").json()["interventions"]
    assert [(i["id"], i["status"]) for i in listed] == [(item["id"], "done")]
    api_b = world.api(world.user_b)
    assert api_b.patch(path, json={"status": "done"}).status_code == 404
    assert api_b.get("/api/dashboard/interventions").json()["interventions"] == []
    # An intervention cannot point at another tenant's alert.
    cross = api_b.post(
        "/api/dashboard/interventions", json={"title": "t", "alert_id": alert_id}
    )
    assert cross.status_code == 400
    sentinel(world, b)
    assert titles(b, "intervention") == []


def test_metrics_update_via_publish_reaches_only_the_tenant(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    a, b, msp = connect_dashboards(world, sockets)
    response = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": DASH,
            "event": "metrics_update",
            "data": {"metrics": {"cpu": 0.42, "queue_depth": 3}},
            "target": {"tenant": world.tenant_a["id"]},
        },
    )
    assert response.status_code == 202
    for recorder in (a, msp):
        (envelope,) = recorder.wait_for("metrics_update", namespace=DASH)
        assert envelope["data"]["metrics"] == {"cpu": 0.42, "queue_depth": 3}
        assert envelope["id"] == response.json()["id"]
    # A client's key cannot publish to another tenant.
    refused = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": DASH,
            "event": "metrics_update",
            "data": {"metrics": {"cpu": 1}},
            "target": {"tenant": world.tenant_b["id"]},
        },
    )
    assert refused.status_code == 404
    sentinel(world, b)
    assert b.of("metrics_update", DASH) == []
