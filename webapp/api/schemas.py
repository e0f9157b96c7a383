"""Every REST input shape (bodies and query strings), validated with pydantic.

One place: the views validate with these models and ``api/openapi.py`` documents the
same models, so the OpenAPI document cannot drift from what is checked.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from flask import request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)

from webapp.errors import ValidationFailed, pydantic_details
from webapp.event_registry import (
    AgentEventType,
    BoundingBox,
    CameraState,
    GpuReading,
    SecuritySeverity,
)
from webapp.input_guard import MAX_ID

M = TypeVar("M", bound=BaseModel)
Q = TypeVar("Q", bound="Query")

# An id field: a larger number names no row and would overflow the database driver.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Body(BaseModel):
    """Strict request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginBody(Body):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class TenantBody(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["msp", "client"]
    parent_id: Id | None = None


class UserBody(Body):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=8, max_length=1024)
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "msp", "client"]


class ApiKeyBody(Body):
    name: str = Field(min_length=1, max_length=200)


class PublishBody(Body):
    namespace: str
    event: str
    data: dict[str, Any]
    target: dict[str, Any]
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=128)


class LogoutBody(Body):
    refresh_token: str | None = None


PublishItems = Annotated[list[PublishBody], Field(min_length=1)]


class PublishEvents(BaseModel):
    """``{"events": [...]}``: other keys are ignored."""

    events: PublishItems


class PublishBatchBody(RootModel[PublishItems | PublishEvents]):
    """A non-empty list of publish requests, or ``{"events": [...]}``."""


# ----------------------------------------------------------------- engagements
EngagementStatus = Literal["active", "paused"]
Severity = Literal["info", "low", "medium", "high", "critical"]


class EngagementBody(Body):
    client_tenant_id: Id
    title: str = Field(min_length=1, max_length=200)
    status: EngagementStatus = "active"


class EngagementPatch(Body):
    # The validator below, in the document: an empty patch is refused.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    title: str | None = Field(default=None, min_length=1, max_length=200)
    status: EngagementStatus | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> EngagementPatch:
        if self.title is None and self.status is None:
            raise ValueError("give title or status")
        return self


class InteractionBody(Body):
    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")


class EngagementAlertBody(Body):
    severity: Severity = "info"
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=4000)
    msp_only: bool = False


# -------------------------------------------------------------------- sessions
class SessionBody(Body):
    title: str = Field(min_length=1, max_length=200)
    tenant_id: Id | None = None
    engagement_id: Id | None = None


# ------------------------------------------------------------------- dashboard
class AlertBody(Body):
    severity: Severity = "info"
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=4000)
    tenant_id: Id | None = None


class AlertStatusBody(Body):
    status: Literal["acknowledged", "resolved"]


class InterventionBody(Body):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    assignee: str = Field(default="", max_length=200)
    alert_id: Id | None = None
    tenant_id: Id | None = None


class InterventionStatusBody(Body):
    status: Literal["open", "in_progress", "done"]


# ------------------------------------------------------ system, security, agents
CAMERA_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


class GpuStatsBody(Body):
    gpus: list[GpuReading] = Field(min_length=1, max_length=64)
    tenant_id: Id | None = None


class CameraStatusBody(Body):
    status: CameraState
    detail: str | None = Field(default=None, max_length=1000)
    tenant_id: Id | None = None


class CameraPath(Body):
    camera_id: str = Field(pattern=CAMERA_ID)


class SecurityEventBody(Body):
    severity: SecuritySeverity
    summary: str = Field(min_length=1, max_length=2000)
    source: str = Field(min_length=1, max_length=200)
    camera_id: str | None = Field(default=None, min_length=1, max_length=128)
    occurred_at: datetime | None = None
    tenant_id: Id | None = None


class DetectionBody(Body):
    event_id: Id
    label: str = Field(min_length=1, max_length=200)
    confidence: float = Field(ge=0.0, le=1.0)
    bbox: BoundingBox | None = None


class AgentRunBody(Body):
    user_id: Id
    name: str = Field(default="", max_length=200)


class AgentEventBody(Body):
    type: AgentEventType
    data: dict[str, Any] = Field(default_factory=dict)


# -------------------------------------------------------------------- webhooks
# The kinds of services/webhooks/registry.py (EVENT_KINDS; a test keeps them equal):
# named here so the document lists them and an unknown kind is refused as one.
WebhookKind = Literal[
    "session.occupied",
    "session.vacated",
    "session.member_added",
    "session.member_removed",
    "event.published",
    "ping",
]
# Checked by the address guard (scheme, host, never a private address), not here.
WebhookUrl = str


class WebhookFilter(Body):
    namespace: str | None = Field(default=None, min_length=1, max_length=32)
    types: list[str] | None = Field(default=None, max_length=100)


class WebhookCreateBody(Body):
    url: WebhookUrl = Field(min_length=1, max_length=2048)
    events: list[WebhookKind] = Field(min_length=1, max_length=10)
    description: str = Field(default="", max_length=500)
    filter: WebhookFilter | None = None


# Absent means "unchanged"; only ``filter`` may be null ("no filter"). A null
# anywhere else would reach the database (a 500) or silently disable the webhook.
_NOT_NULLABLE = ("url", "events", "description", "enabled")


def _patch_schema_without_null(schema: dict[str, Any]) -> None:
    """The document says what the validator checks: those fields take no null."""
    for name in _NOT_NULLABLE:
        prop = schema["properties"][name]
        branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
        prop.pop("default", None)
        if branches:
            prop.update(branches[0])


class WebhookPatchBody(Body):
    model_config = ConfigDict(json_schema_extra=_patch_schema_without_null)

    url: WebhookUrl | None = Field(default=None, min_length=1, max_length=2048)
    events: list[WebhookKind] | None = Field(default=None, min_length=1, max_length=10)
    description: str | None = Field(default=None, max_length=500)
    filter: WebhookFilter | None = None
    enabled: bool | None = None

    @field_validator(*_NOT_NULLABLE, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for fields the body gives (an absent one keeps its default).
        if value is None:
            raise ValueError("may not be null (leave it out to keep it)")
        return value


# --------------------------------------------------------------- query strings
class Query(BaseModel):
    """Query arguments: unknown ones are ignored; an empty one counts as absent."""


class EventsQuery(Query):
    namespace: str | None = None
    room: str | None = None
    type: str | None = None
    since_id: int = Field(default=0, ge=0, le=MAX_ID)
    since: datetime | None = Field(default=None, description="ISO 8601; naive is UTC")
    severity: str | None = None
    limit: int = Field(default=100, ge=1, le=MAX_ID)
    tenant_id: Id | None = None

    @field_validator("since", mode="before")
    @classmethod
    def _iso_time(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            # An unescaped "+" of an offset arrives as a space in a query string.
            parsed = datetime.fromisoformat(value.replace(" ", "+"))
        except ValueError:
            raise ValueError("not an ISO 8601 time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


class EngagementsQuery(Query):
    status: Literal["active", "paused", "archived"] | None = None
    client_tenant_id: int = Field(default=0, ge=0, le=MAX_ID, description="0: any")


class SessionsQuery(Query):
    tenant_id: int = Field(default=0, ge=0, le=MAX_ID, description="0: any")
    engagement_id: int = Field(default=0, ge=0, le=MAX_ID, description="0: any")


class AlertsQuery(Query):
    status: Literal["open", "acknowledged", "resolved"] | None = None  # ALERT_STATUSES
    tenant_id: Id | None = None
    limit: int = Field(default=100, ge=1, le=MAX_ID, description="at most 500 apply")


class InterventionsQuery(Query):
    status: Literal["open", "in_progress", "done"] | None = None
    tenant_id: Id | None = None
    limit: int = Field(default=100, ge=1, le=MAX_ID, description="at most 500 apply")


class TenantQuery(Query):
    tenant_id: Id | None = None


def parse_query(model: type[Q]) -> Q:
    """Validate the query string against ``model`` (empty values count as absent)."""
    args = {name: value for name, value in request.args.items() if value != ""}
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise ValidationFailed(
            "the query string is not valid", details=pydantic_details(exc, "query")
        ) from exc


def parse_body(model: type[M], payload: Any = None) -> M:
    """Validate the JSON body (or ``payload``) against ``model``."""
    if payload is None:
        payload = request.get_json(silent=True)
    if payload is None:
        raise ValidationFailed("the body must be JSON", code="invalid_json")
    try:
        # Strict, with JSON's types: pydantic's lax mode would take `false` for a
        # number, `0` for a time and `"2"` for an id (schemathesis found them stored).
        return model.model_validate_json(json.dumps(payload), strict=True)
    except ValidationError as exc:
        raise ValidationFailed(
            "the request is not valid", details=pydantic_details(exc)
        ) from exc
