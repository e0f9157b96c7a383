"""The event registry: every event type is declared here, once.

REST validation, the publish API, replay and the protocol docs all read it.
Each namespace section is owned by that namespace's feature; keep one declaration
per (namespace, name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from webapp.errors import NotFound, ValidationFailed, pydantic_details
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

NAMESPACES = ("/engagement", "/events", "/system", "/dashboard")
TARGET_KINDS = ("tenant", "session", "user", "msp")

# Roles that may publish through /api/publish; "integration" is an API key.
PUBLISHERS = frozenset({"admin", "msp", "integration"})
SERVER_ONLY: frozenset[str] = frozenset()
# Published only through their domain endpoints (POST /api/events, /api/detections,
# /api/agent-runs/<id>/events, /api/system/..., /api/engagements/..., the
# send_message socket event), which keep the domain record, the run state, the
# counters and the real sender; /api/publish would bypass (or forge) all of that.
DOMAIN_ONLY = SERVER_ONLY


@dataclass(frozen=True)
class EventType:
    """One declared event: where it goes, what it carries, who may publish it."""

    namespace: str
    name: str
    schema: type[BaseModel]
    description: str
    persisted: bool = True
    targets: frozenset[str] = frozenset({"tenant"})
    publishers: frozenset[str] = PUBLISHERS
    example: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """Registry key."""
        return (self.namespace, self.name)


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


# ------------------------------------------------------------------------ /engagement
register(
    EventType(
        "/engagement",
        "engagement_update",
        EngagementUpdate,
        "An engagement was created, changed, archived or counted an interaction.",
        targets=frozenset({"tenant"}),
        publishers=DOMAIN_ONLY,
        example={
            "engagement": {
                "id": 1,
                "msp_tenant_id": 1,
                "client_tenant_id": 2,
                "title": "Onboarding",
                "status": "active",
                "counters": {"call": 3},
            },
            "action": "interaction",
        },
    )
)
register(
    EventType(
        "/engagement",
        "interaction_update",
        InteractionUpdate,
        "An engagement's interaction counters changed.",
        publishers=DOMAIN_ONLY,
        example={
            "engagement_id": 1,
            "kind": "call",
            "count": 3,
            "counters": {"call": 3},
        },
    )
)
register(
    EventType(
        "/engagement",
        "alert",
        EngagementAlert,
        "An alert for a client tenant, or MSP-only when sent to msp:<id>.",
        targets=frozenset({"tenant", "msp", "session", "user"}),
        example={
            "severity": "high",
            "title": "SLA breach",
            "message": "Ticket 42 is overdue",
            "engagement_id": 1,
        },
    )
)
register(
    EventType(
        "/engagement",
        "user_joined",
        Presence,
        "A user's first connection joined a session (sent to the others in it).",
        persisted=False,
        targets=frozenset({"session"}),
        publishers=SERVER_ONLY,
        example={
            "session_id": 7,
            "user": {"id": 3, "name": "Ann", "role": "client", "tenant_id": 2},
            "count": 2,
        },
    )
)
register(
    EventType(
        "/engagement",
        "user_left",
        Presence,
        "A user's last connection left a session or dropped (sent to the others).",
        persisted=False,
        targets=frozenset({"session"}),
        publishers=SERVER_ONLY,
        example={
            "session_id": 7,
            "user": {"id": 3, "name": "Ann", "role": "client", "tenant_id": 2},
            "count": 1,
        },
    )
)
register(
    EventType(
        "/engagement",
        "session_message",
        SessionMessage,
        "A chat message in a collaboration session (the sender receives it too).",
        targets=frozenset({"session"}),
        publishers=DOMAIN_ONLY,
        example={
            "session_id": 7,
            "text": "hello",
            "user": {"id": 3, "name": "Ann", "role": "client", "tenant_id": 2},
        },
    )
)

# ---------------------------------------------------------------------------- /events
register(
    EventType(
        "/events",
        "new_event",
        NewEvent,
        "A security event was recorded (POST /api/events).",
        publishers=DOMAIN_ONLY,
        example={
            "id": 12,
            "tenant_id": 3,
            "source": "front-door",
            "camera_id": "cam-3",
            "severity": "high",
            "summary": "Door forced open",
            "occurred_at": "2026-01-05T09:30:00Z",
        },
    )
)
register(
    EventType(
        "/events",
        "detection",
        Detection,
        "An object was detected in a security event (POST /api/detections).",
        publishers=DOMAIN_ONLY,
        example={
            "id": 40,
            "event_id": 12,
            "tenant_id": 3,
            "label": "person",
            "confidence": 0.93,
            "bbox": {"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.5},
            "created_at": "2026-01-05T09:30:01Z",
        },
    )
)
_AGENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "agent_started": {"name": "triage"},
    "agent_thinking": {"thought": "Looking at the last 10 alerts"},
    "tool_executing": {"tool": "search_logs", "input": {"query": "door"}},
    "tool_completed": {"tool": "search_logs", "output": "3 matches"},
    "agent_completed": {"result": "No action needed"},
    "agent_error": {"message": "the agent failed", "code": "tool_timeout"},
}
for _agent_event in AGENT_EVENT_TYPES:
    register(
        EventType(
            "/events",
            _agent_event,
            AgentRunEvent,
            f"AI agent run, to its user only: {_agent_event.replace('_', ' ')}.",
            targets=frozenset({"user"}),
            publishers=DOMAIN_ONLY,
            example={"run_id": 5, "seq": 1, **_AGENT_EXAMPLES[_agent_event]},
        )
    )

# ---------------------------------------------------------------------------- /system
register(
    EventType(
        "/system",
        "gpu_stats",
        GpuStats,
        "Latest value of every GPU of the tenant; volatile (never persisted or "
        "replayed).",
        persisted=False,
        publishers=DOMAIN_ONLY,
        example={
            "gpus": [
                {
                    "index": 0,
                    "host": "nvr-1",
                    "name": "RTX A2000",
                    "utilization": 71.5,
                    "memory_used": 5120,
                    "memory_total": 12288,
                    "temperature": 64,
                    "power": 55.2,
                    "tenant_id": 3,
                    "updated_at": "2026-01-05T09:30:00Z",
                }
            ]
        },
    )
)
register(
    EventType(
        "/system",
        "camera_status",
        CameraStatus,
        "A camera changed status (sent only on a change).",
        publishers=DOMAIN_ONLY,
        example={
            "camera_id": "cam-3",
            "tenant_id": 3,
            "status": "offline",
            "previous_status": "online",
            "detail": "no signal",
            "changed_at": "2026-01-05T09:30:00Z",
        },
    )
)

# ------------------------------------------------------------------------- /dashboard
register(
    EventType(
        "/dashboard",
        "metrics_update",
        MetricsUpdate,
        "Fresh operational metrics pushed by an integration.",
        example={"metrics": {"cpu": 0.42, "queue_depth": 3}},
    )
)
register(
    EventType(
        "/dashboard",
        "alert",
        DashboardAlert,
        "A dashboard alert was raised or changed status (stored ones carry "
        "alert_id; /api/dashboard/alerts raises them).",
        example={
            "alert_id": 4,
            "severity": "critical",
            "title": "Disk full",
            "message": "/var 98%",
            "status": "open",
        },
    )
)
register(
    EventType(
        "/dashboard",
        "intervention",
        Intervention,
        "An intervention was created or changed status.",
        example={"intervention": {"id": 2, "title": "Call back", "status": "open"}},
    )
)
register(
    EventType(
        "/dashboard",
        "analytics_update",
        Snapshot,
        "A full analytics snapshot: on connect, on refresh and periodically while "
        "someone watches; volatile.",
        persisted=False,
        targets=frozenset({"tenant", "msp"}),
        publishers=SERVER_ONLY,
        example={
            "tenant_id": 1,
            "scope": "msp",
            "generated_at": "2026-11-21T08:00:00Z",
            "totals": {"open_alerts": 1, "open_interventions": 0},
            "tenants": [{"tenant_id": 2, "name": "Acme", "open_alerts": 1}],
        },
    )
)
