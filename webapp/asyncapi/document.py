"""The AsyncAPI 3.0 document of the sockets, built from the registry and the catalog.

One channel per namespace (its address is the namespace); the Switchboard server is
the application described, so what it emits is a ``send`` operation and what a client
emits is a ``receive`` operation whose ``reply`` is the ack. Payload schemas come from
the pydantic models (``webapp.event_payloads``, ``webapp.asyncapi.messages``, the
client-event models of the namespaces); nothing here is written by hand twice.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from webapp.asyncapi.catalog import (
    ACK_ERROR_CODES,
    CLIENT_EVENTS,
    EVENT_ERROR_CODES,
    NAMESPACE_ROOMS,
    NAMESPACE_SUMMARIES,
    REFUSAL_CODES,
    REPLAY_COMPLETE,
    ROOMS,
    SNAPSHOTS,
    WELCOME_NOTE,
    ClientEvent,
)
from webapp.asyncapi.messages import ConnectAuth, ConnectError, ErrorAck, Welcome
from webapp.event_registry import NAMESPACES, EventType, events_in, validate_payload

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
SCHEMA_REF = "#/components/schemas/{model}"
TARGET_ORDER = ("tenant", "msp", "session", "user")

# Fixed values so the rendered examples are stable from one run to the next.
EXAMPLE_ID = 812
EXAMPLE_TENANT_ID = 2
EXAMPLE_TIMESTAMP = "2026-01-05T09:30:00.123456Z"
EXAMPLE_SESSION_ID = 7
EXAMPLE_USER_ID = 3

DESCRIPTION = """\
Switchboard's Socket.IO v4 protocol: any stock Socket.IO v4 client connects to one \
of the four namespaces (the channels below) with an access token in `auth.token`. \
The server puts the connection in its rooms (clients never name a tenant room), \
sends `welcome`, the namespace's snapshot, the replay when `auth.last_event_id` was \
given, then live events. Every domain event arrives as the Socket.IO event named by \
its `type`, in one envelope `{id, type, namespace, tenant_id, room, data, timestamp}`. \
Every client event is acknowledged with `{ok: true, ...}` or `{ok: false, error: \
{code, message, details?}}`; a connection that earns more than \
`MAX_ERRORS_PER_CONNECTION` error acks is disconnected."""
CONNECT_NOTE = (
    "Answered by `welcome` once the namespace is connected, or refused with "
    "`connect_error` (its `message` is a refusal code, its `data` explains it)."
)
REPLAY_NOTE = (
    "On a CONNECT with `auth.last_event_id`: every persisted event of this "
    "namespace with a greater id in the connection's rooms, in id order, each "
    "marked `replayed: true`, then `replay_complete`; live events follow."
)
SECURITY_DESCRIPTION = (
    "An access token from `POST /api/auth/login`, sent in the Socket.IO CONNECT "
    "packet as `auth.token` (`io(url, {auth: {token}})`), not in an HTTP header. "
    "A refresh token is refused (`wrong_token_type`). API keys (`X-API-Key`) cannot "
    "open sockets; they publish over REST."
)


@lru_cache(maxsize=1)
def asyncapi_json() -> str:
    """The document as JSON text, built once per process (it depends on code only)."""
    return json.dumps(build_document(), indent=2)


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document: channels, operations, components."""
    schemas = SchemaCollector()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for namespace in NAMESPACES:
        channel = ChannelBuilder(namespace, schemas)
        operations.update(channel.operations())
        channels[channel.id] = channel.channel()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Switchboard sockets",
            "version": DOCUMENT_VERSION,
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "switchboard": {
                "host": "{host}",
                "pathname": "/socket.io/",
                "protocol": "ws",
                "protocolVersion": "Socket.IO 4 (Engine.IO 4)",
                "description": "The engine.io endpoint; WebSocket or HTTP "
                "long-polling (wss behind TLS).",
                "variables": {"host": {"default": "127.0.0.1:5000"}},
                "security": [{"$ref": "#/components/securitySchemes/accessToken"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas.collected,
            "securitySchemes": {
                "accessToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": SECURITY_DESCRIPTION,
                }
            },
        },
    }


class ChannelBuilder:
    """One namespace: its channel (rooms, messages) and its operations."""

    def __init__(self, namespace: str, schemas: SchemaCollector) -> None:
        self.namespace = namespace
        self.id = namespace.strip("/")
        self.ref = {"$ref": f"#/channels/{self.id}"}
        self.schemas = schemas
        self.messages: dict[str, Any] = {}

    def add(self, name: str, message: dict[str, Any]) -> dict[str, str]:
        """Add a message to the channel; return a ``$ref`` to it."""
        if name in self.messages:  # e.g. a registry event named like an ack
            raise ValueError(f"{self.namespace} has two messages named {name}")
        self.messages[name] = message
        return {"$ref": f"#/channels/{self.id}/messages/{name}"}

    def add_model(
        self, name: str, description: str | None, model: type[BaseModel]
    ) -> dict[str, str]:
        """Add a message whose payload is a pydantic model."""
        return self.add(name, _message(name, description, self.schemas.ref(model)))

    def operations(self) -> dict[str, Any]:
        """Connect, the server's messages, the replay, the client events."""
        ops = {f"{self.id}.connect": self._connect()}
        snapshot = SNAPSHOTS.get(self.namespace)
        if snapshot is not None:
            message = self.add_model(
                snapshot.name, snapshot.description, snapshot.schema
            )
            ops[f"{self.id}.{snapshot.name}"] = self._send(
                snapshot.description, [message]
            )
        persisted = []
        for et in events_in(self.namespace):
            message = self.add(et.name, _event_message(et, self.schemas))
            ops[f"{self.id}.{et.name}"] = self._send(et.description, [message])
            if et.persisted:
                persisted.append(message)
        complete = REPLAY_COMPLETE
        done = self.add_model(complete.name, complete.description, complete.schema)
        ops[f"{self.id}.replay"] = self._send(REPLAY_NOTE, [*persisted, done])
        ops.update(self._client_events())
        return ops

    def _client_events(self) -> dict[str, Any]:
        """Each client event, its reply being its ack or the error ack."""
        ops: dict[str, Any] = {}
        client_events = [ce for ce in CLIENT_EVENTS if ce.namespace == self.namespace]
        if client_events:
            codes = [code for ce in client_events for code in ce.errors]
            error_ack = self.add("error_ack", _error_ack(self.schemas, codes))
        for ce in client_events:
            payload = self.schemas.ref(ce.payload) if ce.payload is not None else {}
            request = self.add(ce.name, _message(ce.name, ce.description, payload))
            ack = self.add_model(f"{ce.name}_ack", ce.ack.__doc__, ce.ack)
            ops[f"{self.id}.{ce.name}"] = {
                "action": "receive",
                "channel": self.ref,
                "summary": f"Client event `{ce.name}`, acknowledged.",
                "description": ce.description + _error_codes(ce),
                "messages": [request],
                "reply": {"channel": self.ref, "messages": [ack, error_ack]},
            }
        return ops

    def channel(self) -> dict[str, Any]:
        """The channel object (call after ``operations``, which adds the messages)."""
        rooms = [
            {"kind": kind, "name": ROOMS[kind][0], "description": ROOMS[kind][1]}
            for kind in NAMESPACE_ROOMS[self.namespace]
        ]
        listed = "; ".join(f"`{room['name']}`: {room['description']}" for room in rooms)
        return {
            "address": self.namespace,
            "title": self.namespace,
            "summary": NAMESPACE_SUMMARIES[self.namespace],
            "description": f"Socket.IO namespace `{self.namespace}`. Rooms: {listed}.",
            "messages": self.messages,
            "x-rooms": rooms,
        }

    def _connect(self) -> dict[str, Any]:
        connect = self.add_model("connect", ConnectAuth.__doc__, ConnectAuth)
        refused = self.add("connect_error", _connect_error(self.schemas))
        welcome = self.add_model("welcome", WELCOME_NOTE, Welcome)
        return {
            "action": "receive",
            "channel": self.ref,
            "summary": f"Connect to {self.namespace} (the Socket.IO CONNECT packet).",
            "description": CONNECT_NOTE,
            "security": [{"$ref": "#/components/securitySchemes/accessToken"}],
            "messages": [connect],
            "reply": {"channel": self.ref, "messages": [welcome, refused]},
        }

    def _send(self, description: str, messages: list[Any]) -> dict[str, Any]:
        return {
            "action": "send",
            "channel": self.ref,
            "description": description,
            "messages": messages,
        }


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


def _message(name: str, description: str | None, payload: Any) -> dict[str, Any]:
    return {"name": name, "summary": (description or "").strip(), "payload": payload}


def _error_ack(schemas: SchemaCollector, event_codes: list[str]) -> dict[str, Any]:
    """The negative ack, its ``error.code`` narrowed to this namespace's codes."""
    payload = ErrorAck.model_json_schema(ref_template=SCHEMA_REF)
    error = payload.pop("$defs")["AckError"]
    codes = {**ACK_ERROR_CODES, **{c: EVENT_ERROR_CODES[c] for c in event_codes}}
    error["properties"]["code"] = {
        "description": "the error code",
        "oneOf": [{"const": code, "description": when} for code, when in codes.items()],
    }
    payload["properties"]["error"] = error
    return _message("error_ack", ErrorAck.__doc__, payload)


def _error_codes(ce: ClientEvent) -> str:
    codes = [*ACK_ERROR_CODES, *ce.errors]
    return " Error codes: " + ", ".join(f"`{code}`" for code in codes) + "."


def _connect_error(schemas: SchemaCollector) -> dict[str, Any]:
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
    return _message("connect_error", ConnectError.__doc__, payload)


def _event_message(et: EventType, schemas: SchemaCollector) -> dict[str, Any]:
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
