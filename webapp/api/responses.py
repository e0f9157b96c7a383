"""REST response shapes, for the OpenAPI document (the views return plain dicts).

Each model names the fields the contract (docs/architecture.md §5, §8) promises;
``extra="allow"`` because a response may grow a field without breaking a client.
schemathesis checks every live response against these in the suite.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """A response object: the named fields, and possibly more."""

    model_config = ConfigDict(extra="allow")


Timestamp = str  # ISO 8601, UTC


# ---------------------------------------------------------------------- errors
class ErrorDetail(Out):
    field: str | None = None
    message: str | None = None


class ErrorObject(BaseModel):
    code: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="snake_case error code (docs/architecture.md §5)",
    )
    message: str
    details: Any = Field(
        default=None,
        description="a list of {field, message} for validation errors; absent "
        "when there is nothing to add",
    )


class ErrorResponse(BaseModel):
    """The one JSON error shape."""

    error: ErrorObject


# ------------------------------------------------------------- tenants, users
class Tenant(Out):
    id: int
    name: str
    kind: Literal["msp", "client"]
    parent_id: int | None


class User(Out):
    id: int
    email: str
    name: str
    role: Literal["admin", "msp", "client"]
    tenant_id: int


class Tenants(Out):
    tenants: list[Tenant]


class ApiKey(Out):
    id: int
    tenant_id: int
    name: str
    prefix: str
    created_at: Timestamp
    revoked_at: Timestamp | None


class ApiKeys(Out):
    api_keys: list[ApiKey]


class NewApiKey(Out):
    id: int
    name: str
    prefix: str
    key: str = Field(description="sb_<prefix>_<secret>: shown only in this response")


# ------------------------------------------------------------------------ auth
class Tokens(Out):
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


class AccessToken(Out):
    access_token: str
    expires_in: int


class Me(Out):
    user: User | None
    tenant: Tenant | None


# --------------------------------------------------------------------- publish
class Published(Out):
    id: int | None
    event: str
    room: str
    duplicate: bool


class PublishedBatch(Out):
    results: list[Published]


class Events(Out):
    events: list[dict[str, Any]]
    count: int


# ----------------------------------------------------------------- engagements
class Engagement(Out):
    id: int
    msp_tenant_id: int
    client_tenant_id: int
    title: str
    status: Literal["active", "paused", "archived"]
    counters: dict[str, Any]
    created_at: Timestamp
    updated_at: Timestamp


class Engagements(Out):
    engagements: list[Engagement]


class Counters(Out):
    """The engagement's new counters (what ``interaction_update`` carries)."""


class Accepted(Out):
    """An event accepted for delivery: its id and room."""

    id: int | None = None
    room: str | None = None


# -------------------------------------------------------------------- sessions
class Session(Out):
    id: int
    tenant_id: int
    engagement_id: int | None
    title: str


class Sessions(Out):
    sessions: list[Session]


# ------------------------------------------------------------------- dashboard
class Alert(Out):
    alert_id: int
    tenant_id: int
    severity: str
    title: str
    message: str
    status: Literal["open", "acknowledged", "resolved"]
    created_at: Timestamp
    updated_at: Timestamp


class Alerts(Out):
    alerts: list[Alert]


class Intervention(Out):
    id: int
    tenant_id: int
    alert_id: int | None
    title: str
    description: str
    assignee: str
    status: Literal["open", "in_progress", "done"]
    created_at: Timestamp
    updated_at: Timestamp


class Interventions(Out):
    interventions: list[Intervention]


class Analytics(Out):
    room: str
    generated_at: Timestamp
    window_seconds: int
    totals: dict[str, Any]
    tenants: list[dict[str, Any]]


# ------------------------------------------------------ system, security, agents
class GpuStatsAccepted(Out):
    gpus: list[dict[str, Any]]
    room: str


class Camera(Out):
    camera_id: str
    tenant_id: int
    status: Literal["online", "offline", "error"]
    detail: str | None


class CameraChange(Out):
    camera: Camera
    changed: bool
    event: dict[str, Any] | None


class SystemStatus(Out):
    gpus: list[dict[str, Any]]
    cameras: list[dict[str, Any]]


class SecurityEvent(Out):
    id: int
    tenant_id: int
    source: str
    severity: str
    summary: str
    event: dict[str, Any]


class DetectionOut(Out):
    id: int
    event_id: int
    tenant_id: int
    label: str
    confidence: float
    event: dict[str, Any]


class AgentRun(Out):
    id: int
    tenant_id: int
    user_id: int
    name: str
    status: str
    event_count: int
    created_at: Timestamp
    finished_at: Timestamp | None


class AgentEventAccepted(Out):
    run_id: int
    seq: int
    room: str


# ---------------------------------------------------------------- operations
class Health(Out):
    status: Literal["ok"]


class Ready(Out):
    status: Literal["ready", "unavailable"]
    checks: dict[str, dict[str, Any]]


class WsStatus(Out):
    status: Literal["ok"]
    active_connections: int


class WsStats(Out):
    total: int
    namespaces: dict[str, int]
    tenants: dict[str, Any]


# -------------------------------------------------------------------- webhooks
class WebhookFilterOut(Out):
    namespace: str | None = None
    types: list[str] | None = None


class Webhook(Out):
    id: int
    tenant_id: int
    url: str
    description: str
    events: list[str]
    filter: WebhookFilterOut | None
    enabled: bool
    status: Literal["active", "failing", "disabled"]
    disabled_reason: str | None
    failing_since: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class NewWebhook(Webhook):
    secret: str = Field(description="whsec_…: shown only in this response")


class Webhooks(Out):
    webhooks: list[Webhook]


class WebhookSecret(Out):
    id: int
    secret: str = Field(description="the new secret, shown only in this response")


class DeliveryAttempt(Out):
    attempt: int
    at: Timestamp
    status: int | None = Field(description="the receiver's HTTP status, if any")
    error: str | None
    duration_ms: float
    response: str = Field(description="the start of the receiver's response body")


class WebhookDelivery(Out):
    id: int
    webhook_id: int
    event_id: str
    type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    attempt_log: list[DeliveryAttempt]
    next_attempt_at: Timestamp | None
    created_at: Timestamp
    delivered_at: Timestamp | None


class WebhookDeliveries(Out):
    webhook: Webhook
    deliveries: list[WebhookDelivery]
