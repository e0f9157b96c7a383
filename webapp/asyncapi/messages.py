"""Schemas of the socket messages outside the event registry (connect, acks, replay).

They describe what the namespaces send (docs/architecture.md §6) so the AsyncAPI
document can carry them; tests/sockets/test_messages_match_asyncapi.py checks real
messages of a live server against the document, so these cannot drift from the
handlers unnoticed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from webapp.event_payloads import GpuState, Payload, Snapshot

ReplayReason = Literal["too_many_events", "too_old", "pruned", "last_event_id_ahead"]


class Closed(BaseModel):
    """A message whose fields are all listed here."""

    model_config = ConfigDict(extra="forbid")


class ConnectAuth(BaseModel):
    """The ``auth`` object of the Socket.IO CONNECT (``io(url, {auth})``)."""

    token: str = Field(description="an access token from POST /api/auth/login")
    last_event_id: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        description="the last event id seen: replay what was missed since",
    )
    tenant_id: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description="admins only: watch this tenant instead of their own",
    )


class RefusalData(Closed):
    """``err.data`` of a refusal."""

    message: str = Field(description="what went wrong, for people")


class ConnectError(Closed):
    """A refused CONNECT: ``err.message`` is the code, ``err.data`` explains it."""

    message: str = Field(description="the refusal code")
    data: RefusalData


class UserSummary(Payload):
    """Who a connection or a participant is."""

    id: int
    name: str
    role: str
    tenant_id: int


class Heartbeat(Closed):
    """Engine.io heartbeat settings, in milliseconds."""

    interval: int
    timeout: int


class Welcome(Closed):
    """The first message after CONNECT: who the client is, how it is kept alive."""

    sid: str
    namespace: str
    user: UserSummary
    heartbeat: Heartbeat
    server_time: str = Field(description="ISO 8601 UTC")


class ReplayComplete(Closed):
    """End of a replay; ``recovered: false`` means nothing was replayed (refetch)."""

    count: int = Field(ge=0, description="events replayed")
    last_event_id: int = Field(ge=0, description="resume from here")
    recovered: bool
    reason: ReplayReason | None = Field(
        default=None, description="why nothing was replayed (recovered: false)"
    )


class CameraRecord(Closed):
    """One camera as stored."""

    camera_id: str
    tenant_id: int
    status: Literal["online", "offline", "error"]
    detail: str | None
    changed_at: str | None
    updated_at: str | None


class SystemSnapshot(Closed):
    """/system, after ``welcome``: the latest state of the watched tenants."""

    gpus: list[GpuState]
    cameras: list[CameraRecord]


class AckError(Closed):
    """Why a client event failed."""

    code: str = Field(description="a documented error code")
    message: str
    details: Any = Field(default=None, description="e.g. one {field, message} each")


class ErrorAck(Closed):
    """The negative acknowledgement of any client event."""

    ok: Literal[False]
    error: AckError


class CollabSessionRecord(Closed):
    """A collaboration session as stored."""

    id: int
    tenant_id: int
    engagement_id: int | None
    title: str
    created_by: int | None
    created_at: str | None


class SessionAck(Closed):
    """``leave_session``'s ack: the session and who is still in it."""

    ok: Literal[True]
    session_id: int
    participants: list[UserSummary]
    count: int = Field(ge=0)
    session: CollabSessionRecord


class JoinSessionAck(SessionAck):
    """``join_session``'s ack; ``replay`` only when ``last_event_id`` was given."""

    replay: ReplayComplete | None = None


class SendMessageAck(Closed):
    """``send_message``'s ack: the stored message's event id."""

    ok: Literal[True]
    id: int


class PingAck(Closed):
    """``ping``'s ack."""

    ok: Literal[True]
    pong: Literal[True]
    server_time: str = Field(description="ISO 8601 UTC")


class RefreshAck(Closed):
    """``refresh``'s ack: the snapshot also sent as ``analytics_update``."""

    ok: Literal[True]
    generated_at: str
    analytics: Snapshot
