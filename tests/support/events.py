"""Helpers shared by the /events and /system live tests (no tests here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.sockets import SocketRecorder
from webapp.event_registry import EVENT_TYPES

ENVELOPE_KEYS = {"id", "type", "namespace", "tenant_id", "room", "data", "timestamp"}
# Per-connection server messages; everything else must be a declared domain event.
SERVER_MESSAGES = {"welcome", "system_snapshot", "replay_complete"}
# The ``sockets`` fixture of tests/conftest.py.
Sockets = Callable[..., SocketRecorder]


def assert_envelope(
    envelope: dict[str, Any],
    event: str,
    namespace: str,
    room: str,
    tenant_id: int,
    persisted: bool = True,
) -> None:
    """The envelope of docs/architecture.md §6, addressed as expected."""
    assert set(envelope) >= ENVELOPE_KEYS, envelope
    assert envelope["type"] == event
    assert envelope["namespace"] == namespace
    assert envelope["room"] == room
    assert envelope["tenant_id"] == tenant_id
    assert envelope["timestamp"].endswith("Z")
    if persisted:
        assert isinstance(envelope["id"], int) and envelope["id"] > 0
    else:
        assert envelope["id"] is None


def assert_isolated(
    recorder: SocketRecorder, rooms: set[str], tenant_ids: set[int]
) -> None:
    """Every event the recorder got is on its own namespace, rooms and tenants."""
    for namespace, name, data in recorder.events:
        if name in SERVER_MESSAGES:
            if name == "system_snapshot":
                items = data["gpus"] + data["cameras"]
                assert {item["tenant_id"] for item in items} <= tenant_ids
            continue
        assert (namespace, name) in EVENT_TYPES, f"{name} arrived on {namespace}"
        assert data["namespace"] == namespace, data
        assert data["room"] in rooms, data
        assert data["tenant_id"] in tenant_ids, data


def received(recorder: SocketRecorder, namespace: str) -> list[str]:
    """Names of the domain events received on one namespace, in order."""
    return [
        name
        for ns, name, _ in recorder.events
        if ns == namespace and name not in SERVER_MESSAGES
    ]


def post_ok(response: Any, status: int = 201) -> dict[str, Any]:
    """Assert the status and return the JSON body."""
    assert response.status_code == status, response.text
    return dict(response.json())
