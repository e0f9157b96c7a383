"""What a webhook delivery POSTs: the OpenAPI 3.1 top-level ``webhooks`` object.

One entry per kind, each the envelope ``{id, type, tenant_id, created_at, data}``
with its own ``data`` model and the headers the sender sets. The outbox builds the
bodies as JSON; tests/api/test_openapi_webhooks.py checks real deliveries of every kind
against these schemas, so the document cannot drift from what is sent.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from webapp.api.responses import Timestamp


class Payload(BaseModel):
    """A payload object: the named fields, and possibly more (receivers ignore them)."""

    model_config = ConfigDict(extra="allow")


class PresenceUser(Payload):
    id: int
    name: str | None = None


class PresenceData(Payload):
    """A session's membership after the change."""

    session_id: int
    user: PresenceUser
    count: int = Field(ge=0, description="distinct users in the session now")


class PublishedData(Payload):
    """The published event's envelope, as socket clients receive it."""

    id: int
    type: str
    namespace: str
    tenant_id: int
    room: str
    data: dict[str, Any]
    timestamp: Timestamp


class PingData(Payload):
    webhook_id: int
    message: str


class Envelope(Payload):
    id: str = Field(
        pattern=r"^evt_[0-9a-f]{32}$",
        description="stable across retries (also Switchboard-Webhook-Id): dedupe on it",
    )
    tenant_id: int
    created_at: Timestamp


class SessionOccupied(Envelope):
    type: Literal["session.occupied"]
    data: PresenceData


class SessionVacated(Envelope):
    type: Literal["session.vacated"]
    data: PresenceData


class SessionMemberAdded(Envelope):
    type: Literal["session.member_added"]
    data: PresenceData


class SessionMemberRemoved(Envelope):
    type: Literal["session.member_removed"]
    data: PresenceData


class EventPublished(Envelope):
    type: Literal["event.published"]
    data: PublishedData


class Ping(Envelope):
    type: Literal["ping"]
    data: PingData


# kind -> (body model, when it is sent)
KINDS: dict[str, tuple[type[Envelope], str]] = {
    "session.occupied": (SessionOccupied, "The first member joined a session."),
    "session.vacated": (SessionVacated, "The last member left a session."),
    "session.member_added": (
        SessionMemberAdded,
        "A user joined a session (their first tab).",
    ),
    "session.member_removed": (
        SessionMemberRemoved,
        "A user's last tab left a session or disconnected.",
    ),
    "event.published": (
        EventPublished,
        "A persisted event was published to the tenant (the webhook's filter applies).",
    ),
    "ping": (Ping, "POST …/webhooks/{webhook_id}/test."),
}

HEADERS: dict[str, dict[str, Any]] = {
    "Switchboard-Webhook-Id": {
        "description": "the payload's id, stable across retries",
        "schema": {"type": "string", "pattern": r"^evt_[0-9a-f]{32}$"},
    },
    "Switchboard-Signature": {
        "description": "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>' with the "
        "webhook's secret> (docs/webhooks.md, verifying)",
        "schema": {"type": "string", "pattern": r"^t=\d+,v1=[0-9a-f]{64}$"},
    },
    "Switchboard-Webhook-Attempt": {
        "description": "1 for the first attempt, then 2, 3, …",
        "schema": {"type": "integer", "minimum": 1},
    },
}


def add_webhooks(document: dict[str, Any]) -> None:
    """Add the ``webhooks`` object, and its models to ``components.schemas``."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    webhooks: dict[str, Any] = {}
    for kind, (model, when) in KINDS.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in {
            **schema.pop("$defs", {}),
            model.__name__: schema,
        }.items():
            # One namespace with the REST models: a clash would swap a schema.
            if schemas.setdefault(name, definition) != definition:
                raise ValueError(f"two OpenAPI schemas are named {name}")
        webhooks[kind] = {
            "post": {
                "operationId": "webhook_" + kind.replace(".", "_"),
                "summary": kind,
                "description": when + " Any 2xx answer is success; other answers "
                "and network errors are retried (docs/webhooks.md).",
                "tags": ["webhooks"],
                "parameters": [
                    {"name": name, "in": "header", "required": True, **header}
                    for name, header in HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                },
                "responses": {
                    "2XX": {"description": "received"},
                    "default": {"description": "not received: retried later"},
                },
            }
        }
    document["webhooks"] = webhooks
