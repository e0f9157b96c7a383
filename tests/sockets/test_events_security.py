"""/events: security events and detections over REST, delivered to tenant rooms."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.support.events import (
    Sockets,
    assert_envelope,
    assert_isolated,
    received,
)
from tests.support.world import World, build_world

EVENT = {"severity": "high", "summary": "Door forced open", "source": "front-door"}


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    """One world per module: building one costs seconds (password hashing)."""
    return build_world(server.url, server.seed)


@pytest.fixture
def fresh_world(server: LiveServer) -> World:
    """A world of its own, for tests that compare whole histories or snapshots."""
    return build_world(server.url, server.seed)


def _post_event(world: World, who: Any, **fields: Any) -> dict[str, Any]:
    response = world.api(who).post("/api/events", json={**EVENT, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_new_event_reaches_its_tenant_room_on_events_only(
    world: World, sockets: Sockets
) -> None:
    a, b = world.tenant_a["id"], world.tenant_b["id"]
    user_a = sockets().connect(
        world.url, world.user_a.access_token, ["/events", "/system"]
    )
    user_b = sockets().connect(world.url, world.user_b.access_token, ["/events"])
    msp = sockets().connect(world.url, world.msp_user.access_token, ["/events"])

    record = _post_event(
        world, world.key_a, camera_id="cam-1", occurred_at="2026-01-05T09:30:00+01:00"
    )
    assert record["tenant_id"] == a and record["occurred_at"] == "2026-01-05T08:30:00Z"
    (envelope,) = user_a.wait_for("new_event", namespace="/events")
    assert_envelope(envelope, "new_event", "/events", f"tenant:{a}", a)
    assert envelope["id"] == record["event"]["id"]
    assert envelope["data"] == {k: v for k, v in record.items() if k != "event"}
    assert msp.wait_for("new_event", namespace="/events")[0] == envelope

    # Markers: B's own event reaches B; A's camera change reaches A's /system.
    _post_event(world, world.key_b, summary="marker b")
    user_b.wait_for("new_event", namespace="/events")
    assert [e["data"]["summary"] for e in user_b.of("new_event")] == ["marker b"]
    assert (
        world.api(world.key_a)
        .put("/api/system/cameras/cam-1/status", json={"status": "online"})
        .status_code
        == 200
    )
    user_a.wait_for("camera_status", namespace="/system")
    assert received(user_a, "/system") == ["camera_status"]
    assert received(user_a, "/events") == ["new_event"]
    assert_isolated(user_a, {f"tenant:{a}", f"user:{world.user_a.id}"}, {a})
    assert_isolated(user_b, {f"tenant:{b}", f"user:{world.user_b.id}"}, {b})


def test_detection_is_broadcast_with_its_event_and_box(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    user_a = sockets().connect(world.url, world.user_a.access_token, ["/events"])
    event_id = _post_event(world, world.key_a)["id"]
    box = {"x": 0.7, "y": 0.0, "width": 0.3, "height": 1.0}
    response = world.api(world.key_a).post(
        "/api/detections",
        json={"event_id": event_id, "label": "person", "confidence": 0.93, "bbox": box},
    )
    assert response.status_code == 201, response.text
    (envelope,) = user_a.wait_for("detection", namespace="/events")
    assert_envelope(envelope, "detection", "/events", f"tenant:{a}", a)
    assert envelope["id"] == response.json()["event"]["id"]
    assert envelope["data"]["id"] == response.json()["id"]
    assert envelope["data"]["event_id"] == event_id
    assert envelope["data"]["bbox"] == box and envelope["data"]["confidence"] == 0.93
    assert received(user_a, "/events") == ["new_event", "detection"]


def test_detection_for_another_tenants_event_is_not_found(world: World) -> None:
    event_id = _post_event(world, world.key_a)["id"]
    body = {"event_id": event_id, "label": "car", "confidence": 0.5}
    response = world.api(world.key_b).post("/api/detections", json=body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (
        world.api(world.key_msp).post("/api/detections", json=body).status_code == 201
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/events", {**EVENT, "severity": "urgent"}, "severity"),
        ("/api/events", {"severity": "low", "source": "cam"}, "summary"),
        ("/api/events", {**EVENT, "source": ""}, "source"),
        ("/api/events", {**EVENT, "occurred_at": "yesterday"}, "occurred_at"),
        ("/api/events", {**EVENT, "tenant": 1}, "tenant"),
        (
            "/api/detections",
            {"event_id": 1, "label": "x", "confidence": 1.5},
            "confidence",
        ),
        (
            "/api/detections",
            {"event_id": 1, "label": "x", "confidence": -0.1},
            "confidence",
        ),
        ("/api/detections", {"event_id": 1, "label": "", "confidence": 0.5}, "label"),
        (
            "/api/detections",
            {
                "event_id": 1,
                "label": "x",
                "confidence": 0.5,
                "bbox": {"x": 1.2, "y": 0, "width": 0.1, "height": 0.1},
            },
            "bbox.x",
        ),
        (
            "/api/detections",
            {
                "event_id": 1,
                "label": "x",
                "confidence": 0.5,
                "bbox": {"x": 0.8, "y": 0, "width": 0.5, "height": 0.1},
            },
            "bbox",
        ),
        (
            "/api/detections",
            {
                "event_id": 1,
                "label": "x",
                "confidence": 0.5,
                "bbox": {"x": 0.1, "y": 0.1, "width": 0.1},
            },
            "bbox.height",
        ),
    ],
)
def test_invalid_security_input_is_a_400_naming_the_field(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    response = world.api(world.key_a).post(path, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"]
    assert field in [detail["field"] for detail in error["details"]], error


def test_client_users_may_not_publish_security_events(world: World) -> None:
    api = world.api(world.user_a)
    for path, body in (
        ("/api/events", EVENT),
        ("/api/detections", {"event_id": 1, "label": "x", "confidence": 1}),
    ):
        response = api.post(path, json=body)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


def test_msp_staff_publish_to_client_tenants_they_manage(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    user_a = sockets().connect(world.url, world.user_a.access_token, ["/events"])
    record = _post_event(world, world.msp_user, tenant_id=a)
    assert record["event"]["room"] == f"tenant:{a}"
    assert user_a.wait_for("new_event")[0]["data"]["id"] == record["id"]
    response = world.api(world.key_a).post(
        "/api/events", json={**EVENT, "tenant_id": world.tenant_b["id"]}
    )
    assert response.status_code == 404


def test_history_filters_security_events_by_severity_and_since(
    fresh_world: World,
) -> None:
    world = fresh_world
    api = world.api(world.user_a)
    first = _post_event(world, world.key_a, severity="low", summary="first")
    (stored,) = api.get("/api/events", params={"namespace": "/events"}).json()["events"]
    second = _post_event(world, world.key_a, severity="critical", summary="second")

    def summaries(**params: Any) -> list[str]:
        response = api.get("/api/events", params={"namespace": "/events", **params})
        assert response.status_code == 200, response.text
        return [e["data"]["summary"] for e in response.json()["events"]]

    assert summaries() == ["first", "second"]
    assert summaries(severity="critical") == ["second"]
    assert summaries(severity="low", type="new_event") == ["first"]
    assert summaries(severity="medium") == []
    assert summaries(since="2000-01-01T00:00:00Z") == ["first", "second"]
    assert summaries(since="2999-01-01T00:00:00+00:00") == []
    assert stored["data"]["id"] == first["id"] and stored["id"] == first["event"]["id"]
    assert second["event"]["id"] > first["event"]["id"]
    assert (
        world.api(world.user_b)
        .get("/api/events", params={"namespace": "/events"})
        .json()["events"]
        == []
    )
    response = api.get("/api/events", params={"since": "last tuesday"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "since"


def test_domain_events_cannot_bypass_their_endpoints_via_publish(
    world: World,
) -> None:
    response = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/events",
            "event": "new_event",
            "data": EVENT,
            "target": {"tenant": world.tenant_a["id"]},
        },
    )
    assert response.status_code == 403
