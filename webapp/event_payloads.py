"""Payload schemas of the registered events (pydantic), one class per shape.

``webapp.event_registry`` declares which event uses which schema; this module only
says what a payload looks like.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Payload(BaseModel):
    """Base for payload schemas: unknown fields are kept (forward compatible)."""

    model_config = ConfigDict(extra="allow")


class Severity(Payload):
    """Common alert fields."""

    severity: Literal["info", "low", "medium", "high", "critical"] = "info"
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=4000)


class EngagementUpdate(Payload):
    """/engagement: an engagement's full state after a change."""

    engagement: dict[str, Any]
    action: Literal["created", "updated", "archived", "interaction"] = "updated"


class InteractionUpdate(Payload):
    """/engagement: every counter of the engagement, as of this increment."""

    engagement_id: int
    kind: str = Field(min_length=1, max_length=64)
    count: int | None = Field(default=None, ge=0)
    counters: dict[str, int]


class EngagementAlert(Severity):
    """/engagement: an alert, optionally about one engagement."""

    engagement_id: int | None = None


class Presence(Payload):
    """/engagement: a user's first connection joined, or last one left, a session."""

    user: dict[str, Any]
    count: int = Field(ge=0)
    session_id: int


class SessionMessage(Payload):
    """/engagement: a chat message in a collaboration session."""

    session_id: int
    text: str = Field(min_length=1, max_length=4000)
    user: dict[str, Any]


SecuritySeverity = Literal["info", "low", "medium", "high", "critical"]
AgentEventType = Literal[
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
    "agent_error",
]
AGENT_EVENT_TYPES: tuple[str, ...] = get_args(AgentEventType)
CameraState = Literal["online", "offline", "error"]


class NewEvent(Payload):
    """A security event as stored (``id`` is the security event's own id)."""

    id: int
    severity: SecuritySeverity
    summary: str = Field(min_length=1, max_length=2000)
    source: str = Field(min_length=1, max_length=200)
    camera_id: str | None = Field(default=None, max_length=128)
    occurred_at: str


class BoundingBox(BaseModel):
    """A box as fractions of the frame; it must lie inside the frame."""

    model_config = ConfigDict(extra="forbid")

    x: float = Field(ge=0.0, le=1.0)
    y: float = Field(ge=0.0, le=1.0)
    width: float = Field(ge=0.0, le=1.0)
    height: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _inside_frame(self) -> BoundingBox:
        # A tiny tolerance for float sums such as 0.7 + 0.3.
        if self.x + self.width > 1.0 + 1e-9 or self.y + self.height > 1.0 + 1e-9:
            raise ValueError(
                "the box must lie inside the frame (x+width, y+height <= 1)"
            )
        return self


class Detection(Payload):
    """A detection as stored, attached to a security event."""

    id: int
    event_id: int
    label: str = Field(min_length=1, max_length=200)
    confidence: float = Field(ge=0.0, le=1.0)
    bbox: BoundingBox | None = None


class AgentRunEvent(Payload):
    """One step of an agent run; the producer's sanitised fields ride along."""

    run_id: int
    seq: int = Field(ge=1)


class GpuReading(BaseModel):
    """One GPU's figures as an integration reports them."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, le=1024)
    host: str = Field(default="", max_length=200)
    name: str | None = Field(default=None, max_length=200)
    utilization: float = Field(ge=0.0, le=100.0, description="percent")
    memory_used: float = Field(ge=0.0, description="MiB")
    memory_total: float = Field(gt=0.0, description="MiB")
    temperature: float = Field(ge=-50.0, le=150.0, description="degrees Celsius")
    power: float = Field(ge=0.0, le=10000.0, description="watts")

    @model_validator(mode="after")
    def _memory_fits(self) -> GpuReading:
        if self.memory_used > self.memory_total:
            raise ValueError("memory_used must not exceed memory_total")
        return self


class GpuState(GpuReading):
    """The latest reading of one GPU, as kept and broadcast."""

    model_config = ConfigDict(extra="allow")

    tenant_id: int
    updated_at: str


class GpuStats(Payload):
    """Every GPU the tenant has reported, latest value each."""

    gpus: list[GpuState]


class CameraStatus(Payload):
    camera_id: str = Field(min_length=1, max_length=128)
    status: CameraState
    detail: str | None = Field(default=None, max_length=1000)
    previous_status: CameraState | None = None


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
    """Computed analytics snapshot (see ``services/dashboard/analytics.py``)."""

    tenant_id: int
    generated_at: str
    totals: dict[str, Any]
    tenants: list[dict[str, Any]]
