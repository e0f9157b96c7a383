"""The messages of the AsyncAPI document: event envelopes, acks, refusals, schemas.

``document.py`` assembles channels and operations from these; the payload schemas
come from the pydantic models, collected once into ``components.schemas``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from webapp.asyncapi.catalog import (
    ACK_ERROR_CODES,
    EVENT_ERROR_CODES,
    REFUSAL_CODES,
    ClientEvent,
)
from webapp.asyncapi.messages import ConnectError, ErrorAck
from webapp.event_registry import EventType, validate_payload

SCHEMA_REF = "#/components/schemas/{model}"
TARGET_ORDER = ("tenant", "msp", "session", "user")

# Fixed values so the rendered examples are stable from one run to the next.
EXAMPLE_ID = 812
EXAMPLE_TENANT_ID = 2
EXAMPLE_TIMESTAMP = "2026-01-05T09:30:00.123456Z"
EXAMPLE_SESSION_ID = 7
EXAMPLE_USER_ID = 3


class SchemaCollector:
    """Pydantic models as JSON Schemas in ``components.schemas``, referenced by name."""

    def __init__(self) -> None:
        self.collected: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        """Add ``model`` (and the models it uses) once; return a ``$ref`` to it."""
        schema = model.model_json_schema(ref_template=SCHEMA_REF)
        for name, definition in schema.pop("$defs", {}).items():
            self.put(name, definition)
        self.put(model.__name__, schema)
        return {"$ref": SCHEMA_REF.format(model=model.__name__)}

    def put(self, name: str, schema: dict[str, Any]) -> None:
        """Add one named schema; two different ones under one name are a bug."""
        if self.collected.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas are named {name}")


def message(name: str, description: str | None, payload: Any) -> dict[str, Any]:
    """One AsyncAPI message: name, summary and payload schema."""
    return {"name": name, "summary": (description or "").strip(), "payload": payload}


def error_ack_message(
    schemas: SchemaCollector, event_codes: list[str]
) -> dict[str, Any]:
    """The negative ack, its ``error.code`` narrowed to this namespace's codes."""
    payload = ErrorAck.model_json_schema(ref_template=SCHEMA_REF)
    error = payload.pop("$defs")["AckError"]
    codes = {**ACK_ERROR_CODES, **{c: EVENT_ERROR_CODES[c] for c in event_codes}}
    error["properties"]["code"] = {
        "description": "the error code",
        "oneOf": [{"const": code, "description": when} for code, when in codes.items()],
    }
    payload["properties"]["error"] = error
    return message("error_ack", ErrorAck.__doc__, payload)


def error_codes_note(ce: ClientEvent) -> str:
    """The sentence listing a client event's error codes."""
    codes = [*ACK_ERROR_CODES, *ce.errors]
    return " Error codes: " + ", ".join(f"`{code}`" for code in codes) + "."


def connect_error_message(schemas: SchemaCollector) -> dict[str, Any]:
    """A refusal: the generic schema, its ``message`` narrowed to the codes."""
    payload = ConnectError.model_json_schema(ref_template=SCHEMA_REF)
    for name, definition in payload.pop("$defs", {}).items():
        schemas.put(name, definition)
    payload["properties"]["message"] = {
        "description": "the refusal code",
        "oneOf": [
            {"const": code, "description": when} for code, when in REFUSAL_CODES.items()
        ],
    }
    return message("connect_error", ConnectError.__doc__, payload)


def event_message(et: EventType, schemas: SchemaCollector) -> dict[str, Any]:
    """A registry event: the envelope around its payload schema, with an example."""
    targets = [kind for kind in TARGET_ORDER if kind in et.targets]
    properties: dict[str, Any] = {
        "id": (
            {"type": "integer", "minimum": 1, "description": "event-log id, increasing"}
            if et.persisted
            else {"type": "null", "description": "volatile: never stored"}
        ),
        "type": {"const": et.name, "description": "the event name"},
        "namespace": {"const": et.namespace, "description": "the namespace"},
        "tenant_id": {"type": "integer", "description": "the tenant it belongs to"},
        "room": {
            "type": "string",
            "pattern": f"^({'|'.join(targets)}):[0-9]+$",
            "description": "`<kind>:<id>`: why this connection got it",
        },
        "data": {**schemas.ref(et.schema), "description": "the payload"},
        "timestamp": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 UTC",
        },
    }
    if et.persisted:
        properties["replayed"] = {
            "const": True,
            "description": "only on events re-sent after a reconnect",
        }
    return {
        "name": et.name,
        "summary": et.description,
        "payload": {
            "type": "object",
            "required": [p for p in properties if p != "replayed"],
            "properties": properties,
            "additionalProperties": False,
        },
        "examples": [{"name": et.name, "payload": example_envelope(et)}],
        "x-persisted": et.persisted,
        "x-targets": targets,
        "x-publishers": sorted(et.publishers),
    }


def example_envelope(et: EventType) -> dict[str, Any]:
    """The declared example as a client receives it: validated, in the envelope."""
    target = next(kind for kind in TARGET_ORDER if kind in et.targets)
    data = validate_payload(et, et.example)
    tenant_id = data.get("tenant_id", EXAMPLE_TENANT_ID)
    target_ids = {
        "tenant": tenant_id,
        "msp": tenant_id,
        "session": data.get("session_id", EXAMPLE_SESSION_ID),
        "user": EXAMPLE_USER_ID,
    }
    return {
        "id": EXAMPLE_ID if et.persisted else None,
        "type": et.name,
        "namespace": et.namespace,
        "tenant_id": tenant_id,
        "room": f"{target}:{target_ids[target]}",
        "data": data,
        "timestamp": EXAMPLE_TIMESTAMP,
    }
