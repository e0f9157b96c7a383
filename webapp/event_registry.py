"""The event registry: every event type, declared once, looked up here.

REST validation, the publish API, replay and the protocol docs all read it. What a
declaration is lives in ``webapp.event_type``; the declarations themselves, one
module per namespace, in ``webapp.event_declarations``. This module registers them
(in namespace order: the order of the AsyncAPI document) and stays the import point
for ``EVENT_TYPES``, ``NAMESPACES``, ``PUBLISHERS``, ``get_event_type`` and the rest.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from webapp.errors import NotFound, ValidationFailed, pydantic_details
from webapp.event_declarations import dashboard, engagement, events, system
from webapp.event_payloads import (  # noqa: F401 - re-exported for callers
    AGENT_EVENT_TYPES,
    AgentEventType,
    AgentRunEvent,
    BoundingBox,
    CameraState,
    CameraStatus,
    DashboardAlert,
    Detection,
    EngagementAlert,
    EngagementUpdate,
    GpuReading,
    GpuState,
    GpuStats,
    InteractionUpdate,
    Intervention,
    InterventionState,
    MetricsUpdate,
    NewEvent,
    Payload,
    Presence,
    SecuritySeverity,
    SessionMessage,
    Severity,
    Snapshot,
)
from webapp.event_type import (  # noqa: F401 - re-exported for callers
    DOMAIN_ONLY,
    NAMESPACES,
    PUBLISHERS,
    SERVER_ONLY,
    TARGET_KINDS,
    EventType,
)

EVENT_TYPES: dict[tuple[str, str], EventType] = {}


def register(event_type: EventType) -> EventType:
    """Declare an event type (once)."""
    if event_type.key in EVENT_TYPES:
        raise ValueError(f"event type {event_type.key} declared twice")
    if event_type.namespace not in NAMESPACES:
        raise ValueError(f"unknown namespace {event_type.namespace}")
    EVENT_TYPES[event_type.key] = event_type
    return event_type


def get_event_type(namespace: str, name: str) -> EventType:
    """Look up a declared event type, or fail with ``unknown_event``."""
    try:
        return EVENT_TYPES[(namespace, name)]
    except KeyError:
        raise NotFound(
            f"no event {name!r} is declared on namespace {namespace!r}",
            code="unknown_event",
            status=400,
        ) from None


def validate_payload(event_type: EventType, data: Any) -> dict[str, Any]:
    """Validate ``data`` against the event's schema and return the clean dict."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            "data must be a JSON object", details=[{"field": "data"}]
        )
    try:
        model = event_type.schema.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            f"data does not match the {event_type.name} schema",
            details=pydantic_details(exc),
        ) from exc
    return model.model_dump(mode="json", exclude_none=False)


def events_in(namespace: str) -> list[EventType]:
    """Declared events of one namespace, in declaration order."""
    return [et for et in EVENT_TYPES.values() if et.namespace == namespace]


for _namespace_events in (
    engagement.DECLARED,
    events.DECLARED,
    system.DECLARED,
    dashboard.DECLARED,
):
    for _event_type in _namespace_events:
        register(_event_type)
