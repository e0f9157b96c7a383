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
    CLIENT_EVENTS,
    NAMESPACE_ROOMS,
    NAMESPACE_SUMMARIES,
    REPLAY_COMPLETE,
    ROOMS,
    SNAPSHOTS,
    WELCOME_NOTE,
)
from webapp.asyncapi.message_schemas import (
    SchemaCollector,
    connect_error_message,
    error_ack_message,
    error_codes_note,
    event_message,
    message,
)
from webapp.asyncapi.messages import ConnectAuth, Welcome
from webapp.event_registry import NAMESPACES, events_in

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"


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
        return self.add(name, message(name, description, self.schemas.ref(model)))

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
            message = self.add(et.name, event_message(et, self.schemas))
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
            error_ack = self.add("error_ack", error_ack_message(self.schemas, codes))
        for ce in client_events:
            payload = self.schemas.ref(ce.payload) if ce.payload is not None else {}
            request = self.add(ce.name, message(ce.name, ce.description, payload))
            ack = self.add_model(f"{ce.name}_ack", ce.ack.__doc__, ce.ack)
            ops[f"{self.id}.{ce.name}"] = {
                "action": "receive",
                "channel": self.ref,
                "summary": f"Client event `{ce.name}`, acknowledged.",
                "description": ce.description + error_codes_note(ce),
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
        refused = self.add("connect_error", connect_error_message(self.schemas))
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
