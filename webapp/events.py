"""The event registry: every event type is declared here, once.

REST validation, the publish API, replay and the protocol docs all read it.
Each namespace section is owned by that namespace's feature; keep one declaration
per (namespace, name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webapp.errors import NotFound, ValidationFailed, pydantic_details

NAMESPACES = ("/engagement", "/events", "/system", "/dashboard")
TARGET_KINDS = ("tenant", "session", "user", "msp")

# Roles that may publish through /api/publish; "integration" is an API key.
PUBLISHERS = frozenset({"admin", "msp", "integration"})
SERVER_ONLY: frozenset[str] = frozenset()


class Payload(BaseModel):
    """Base for payload schemas: unknown fields are kept (forward compatible)."""

    model_config = ConfigDict(extra="allow")


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


# --------------------------------------------------------------------------- schemas


class Severity(Payload):
    """Common alert fields."""

    severity: Literal["info", "low", "medium", "high", "critical"] = "info"
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=4000)


class EngagementUpdate(Payload):
    engagement: dict[str, Any]


class InteractionUpdate(Payload):
    engagement_id: int
    kind: str = Field(min_length=1, max_length=64)
    counters: dict[str, int]


class Presence(Payload):
    user: dict[str, Any]
    count: int = Field(ge=0)
    session_id: int


class SessionMessage(Payload):
    session_id: int
    text: str = Field(min_length=1, max_length=4000)
    user: dict[str, Any]


class NewEvent(Payload):
    severity: Literal["info", "low", "medium", "high", "critical"]
    summary: str = Field(min_length=1, max_length=2000)
    source: str = Field(default="", max_length=200)


class Detection(Payload):
    label: str = Field(min_length=1, max_length=200)
    confidence: float = Field(ge=0.0, le=1.0)
    event_id: int | None = None


class AgentRunEvent(Payload):
    run_id: int


class GpuStats(Payload):
    gpus: list[dict[str, Any]]


class CameraStatus(Payload):
    camera_id: str = Field(min_length=1, max_length=128)
    status: Literal["online", "offline", "error"]
    detail: str | None = Field(default=None, max_length=1000)


class MetricsUpdate(Payload):
    """Operational metrics pushed by an integration (free-form numbers)."""

    metrics: dict[str, Any]


class DashboardAlert(Severity):
    """A dashboard alert; ``alert_id`` is set when it is a stored, trackable alert."""

    alert_id: int | None = None
    status: Literal["open", "acknowledged", "resolved"] = "open"


class InterventionState(Payload):
    """The intervention as stored (see ``Intervention.to_dict``)."""

    id: int
    status: Literal["open", "in_progress", "done"]
    title: str = Field(min_length=1, max_length=200)


class Intervention(Payload):
    """An intervention was created or changed status."""

    intervention: InterventionState


class Snapshot(Payload):
    """Computed analytics snapshot (see ``services/analytics.py``)."""

    tenant_id: int
    generated_at: str
    totals: dict[str, Any]
    tenants: list[dict[str, Any]]


# ------------------------------------------------------------------------ /engagement
register(
    EventType(
        "/engagement",
        "engagement_update",
        EngagementUpdate,
        "An engagement was created or changed.",
        targets=frozenset({"tenant"}),
        example={"engagement": {"id": 1, "title": "Onboarding", "status": "active"}},
    )
)
register(
    EventType(
        "/engagement",
        "interaction_update",
        InteractionUpdate,
        "An engagement's interaction counters changed.",
        example={"engagement_id": 1, "kind": "call", "counters": {"call": 3}},
    )
)
register(
    EventType(
        "/engagement",
        "alert",
        Severity,
        "An alert for a client tenant, or MSP-only when sent to msp:<id>.",
        targets=frozenset({"tenant", "msp", "session", "user"}),
        example={"severity": "high", "title": "SLA breach", "message": "..."},
    )
)
register(
    EventType(
        "/engagement",
        "user_joined",
        Presence,
        "Someone joined a collaboration session.",
        persisted=False,
        targets=frozenset({"session"}),
        publishers=SERVER_ONLY,
        example={"session_id": 7, "user": {"id": 3, "name": "Ann"}, "count": 2},
    )
)
register(
    EventType(
        "/engagement",
        "user_left",
        Presence,
        "Someone's last connection left a collaboration session.",
        persisted=False,
        targets=frozenset({"session"}),
        publishers=SERVER_ONLY,
        example={"session_id": 7, "user": {"id": 3, "name": "Ann"}, "count": 1},
    )
)
register(
    EventType(
        "/engagement",
        "session_message",
        SessionMessage,
        "A chat message in a collaboration session.",
        targets=frozenset({"session"}),
        example={"session_id": 7, "text": "hello", "user": {"id": 3, "name": "Ann"}},
    )
)

# ---------------------------------------------------------------------------- /events
register(
    EventType(
        "/events",
        "new_event",
        NewEvent,
        "A security or application event.",
        example={"severity": "high", "summary": "Door forced", "source": "cam-3"},
    )
)
register(
    EventType(
        "/events",
        "detection",
        Detection,
        "An object detection attached to an event.",
        example={"event_id": 12, "label": "person", "confidence": 0.93},
    )
)
for _agent_event in (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
    "agent_error",
):
    register(
        EventType(
            "/events",
            _agent_event,
            AgentRunEvent,
            f"AI agent run lifecycle: {_agent_event.replace('_', ' ')}.",
            targets=frozenset({"user"}),
            example={"run_id": 5},
        )
    )

# ---------------------------------------------------------------------------- /system
register(
    EventType(
        "/system",
        "gpu_stats",
        GpuStats,
        "Latest GPU utilisation; volatile (never persisted or replayed).",
        persisted=False,
        example={"gpus": [{"index": 0, "utilization": 71.5}]},
    )
)
register(
    EventType(
        "/system",
        "camera_status",
        CameraStatus,
        "A camera changed status.",
        example={"camera_id": "cam-3", "status": "offline", "detail": "no signal"},
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
