"""What the namespaces carry besides the event registry: rooms, connect, client events.

``webapp.event_registry`` declares the server events; this module declares the
rest of the Socket.IO contract (docs/architecture.md §6) once, for the AsyncAPI
document. tests/api/test_asyncapi_document.py fails when a namespace handles a
client event that is not declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from webapp.asyncapi.messages import (
    JoinSessionAck,
    PingAck,
    RefreshAck,
    ReplayComplete,
    SendMessageAck,
    SessionAck,
    SystemSnapshot,
)
from webapp.realtime.namespaces.engagement import JoinSession, SendMessage, SessionEvent

# Room kinds, as ``webapp.rooms`` names them; a connection enters them at connect,
# except session rooms, which join_session enters.
ROOMS = {
    "tenant": (
        "tenant:{tenant_id}",
        "every connection allowed to see the tenant: its own users, its MSP's "
        "staff, an admin watching it (auth.tenant_id)",
    ),
    "msp": ("msp:{tenant_id}", "an MSP tenant's own staff only"),
    "user": ("user:{user_id}", "every connection of one user"),
    "session": (
        "session:{session_id}",
        "connections that joined a collaboration session (join_session)",
    ),
}
NAMESPACE_ROOMS = {
    "/engagement": ("tenant", "msp", "user", "session"),
    "/events": ("tenant", "msp", "user"),
    "/system": ("tenant", "msp", "user"),
    "/dashboard": ("tenant", "msp", "user"),
}
NAMESPACE_SUMMARIES = {
    "/engagement": "Engagements, alerts, presence and chat in collaboration sessions.",
    "/events": "Security events, detections and each user's AI agent runs.",
    "/system": "GPU and camera status, with a snapshot on connect.",
    "/dashboard": "Operational metrics, alerts, interventions and analytics.",
}

# ``err.message`` of a refused CONNECT, and when it happens.
REFUSAL_CODES = {
    "missing_token": "no `token` in `auth` (or no `auth` object)",
    "invalid_token": "not a string, not a JWT, a bad signature; or its user or "
    "tenant no longer exists, or its role claim is out of date",
    "token_expired": "the access token has expired: refresh it and connect again",
    "token_revoked": "the token was revoked (logout)",
    "wrong_token_type": "a refresh token where an access token is needed",
    "user_deactivated": "the token's user has been deactivated",
    "too_many_connections": "the user already has `MAX_CONNECTIONS_PER_USER` "
    "connections on this namespace, counted across the cluster",
    "invalid_last_event_id": "`auth.last_event_id` is not an integer in 0..2^63−1",
    "invalid": "an admin's `auth.tenant_id` is not an integer",
    "not_found": "an admin's `auth.tenant_id` names no tenant (or is outside "
    "1..2^63−1)",
    "unknown_namespace": "the main namespace `/` or a namespace the server does "
    "not have",
    "dependency_unavailable": "the database (or Redis) did not answer while "
    "authenticating: try again shortly",
    "internal_error": "a server bug (logged with its traceback)",
}

# ``error.code`` of an error ack, on every client event.
ACK_ERROR_CODES = {
    "invalid": "the payload does not match its schema; `details` lists "
    "`{field, message}`",
    "too_deep": "nested deeper than `MAX_JSON_DEPTH`",
    "validation_error": "a NUL character in a string",
    "rate_limited": "over `CLIENT_EVENTS_PER_SECOND` (burst `CLIENT_EVENTS_BURST`)",
    "unknown_event": "no such client event, or a reserved name such as `connect`",
    "internal_error": "a server bug (logged)",
}
# ``error.code`` of an error ack on the client events that name them.
EVENT_ERROR_CODES = {
    "not_found": "no such session, or not visible to this user",
    "not_joined": "the connection has not joined that session",
    "engagement_archived": "the session's engagement is archived",
    "busy": "a connect-time replay is still running: join again",
}


@dataclass(frozen=True)
class ClientEvent:
    """A client → server event: its payload, its ack, its own error codes."""

    namespace: str
    name: str
    payload: type[BaseModel] | None  # None: any payload, or none (ignored)
    ack: type[BaseModel]
    description: str
    errors: tuple[str, ...] = ()


CLIENT_EVENTS = (
    ClientEvent(
        "/engagement",
        "join_session",
        JoinSession,
        JoinSessionAck,
        "Join a collaboration session of a visible tenant; the others get "
        "`user_joined`. With `last_event_id` the session room's missed events are "
        "replayed (marked `replayed: true`) before the ack, whose `replay` sums it up.",
        ("not_found", "engagement_archived", "busy"),
    ),
    ClientEvent(
        "/engagement",
        "leave_session",
        SessionEvent,
        SessionAck,
        "Leave a joined session; the others get `user_left`.",
        ("not_found", "not_joined"),
    ),
    ClientEvent(
        "/engagement",
        "send_message",
        SendMessage,
        SendMessageAck,
        "Send a chat message to a joined session: every member (the sender too) "
        "gets `session_message`.",
        ("not_found", "not_joined"),
    ),
    ClientEvent(
        "/dashboard",
        "ping",
        None,
        PingAck,
        "Application-level keep-alive (any payload, or none).",
    ),
    ClientEvent(
        "/dashboard",
        "refresh",
        None,
        RefreshAck,
        "Send a fresh `analytics_update` now; the ack carries it too.",
    ),
)


@dataclass(frozen=True)
class ServerMessage:
    """A message the server sends to one connection, outside the event registry."""

    name: str
    schema: type[BaseModel]
    description: str


WELCOME_NOTE = (
    "The first message after CONNECT on every namespace: who the client is and "
    "how the server checks it is alive (heartbeat in milliseconds)."
)
REPLAY_COMPLETE = ServerMessage(
    "replay_complete",
    ReplayComplete,
    "After a CONNECT with `auth.last_event_id`: the missed events were replayed "
    "(each marked `replayed: true`), live events follow. `recovered: false` means "
    "nothing was replayed — never part of a gap — and the client refetches over "
    "REST (`GET /api/events?since_id=`).",
)
SNAPSHOTS = {
    "/system": ServerMessage(
        "system_snapshot",
        SystemSnapshot,
        "Right after `welcome`: the latest GPU and camera state of the tenants "
        "this connection watches.",
    ),
}
