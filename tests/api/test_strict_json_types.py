"""REST bodies take JSON's types as documented: what schemathesis found stored.

Before, pydantic's lax mode turned `false` into a 0.0 confidence, `0` into a
1970 timestamp and `"2"` into an id; /openapi.json says number, date-time, integer.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.world import World


def _security_event(world: World) -> int:
    response = world.api(world.key_a).post(
        "/api/events", json={"severity": "low", "summary": "door", "source": "cam"}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/detections", {"label": "x", "confidence": False}, "confidence"),
        ("/api/events", {"occurred_at": 0}, "occurred_at"),
        ("/api/dashboard/alerts", {"title": "t", "tenant_id": "2"}, "tenant_id"),
        ("/api/system/gpu-stats", {"gpus": [{"index": True}]}, "gpus.0.index"),
    ],
)
def test_a_value_of_another_json_type_is_a_400_naming_the_field(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    """No coercion: the field is named and nothing is stored."""
    if path == "/api/detections":
        body = {**body, "event_id": _security_event(world)}
    if path == "/api/events":
        body = {**body, "severity": "low", "summary": "s", "source": "cam"}
    response = world.api(world.key_a).post(path, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [item["field"] for item in error["details"]]


def test_json_types_that_match_are_still_accepted(world: World) -> None:
    """An integer for a number and an ISO string for a time are what JSON has."""
    event_id = _security_event(world)
    detection = world.api(world.key_a).post(
        "/api/detections", json={"event_id": event_id, "label": "x", "confidence": 1}
    )
    assert detection.status_code == 201, detection.text
    assert detection.json()["confidence"] == 1.0
    event = world.api(world.key_a).post(
        "/api/events",
        json={
            "severity": "low",
            "summary": "s",
            "source": "cam",
            "occurred_at": "2026-01-02T03:04:05Z",
        },
    )
    assert event.status_code == 201, event.text
    assert event.json()["occurred_at"].startswith("2026-01-02T03:04:05")


def test_another_tenants_event_stays_not_found_with_strict_types(
    world: World,
) -> None:
    """Strictness changes no tenant rule: B's key cannot attach to A's event."""
    event_id = _security_event(world)
    response = world.api(world.key_b).post(
        "/api/detections", json={"event_id": event_id, "label": "x", "confidence": 1}
    )
    assert response.status_code == 404
