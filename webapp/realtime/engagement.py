"""The /engagement namespace: collaboration sessions (join, leave, messages).

Engagement broadcasts (``engagement_update``, ``interaction_update``, ``alert``)
reach connections through the tenant and MSP rooms they enter at connect.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator
from pydantic import ValidationError as PydanticValidationError

from webapp.auth.identity import Identity
from webapp.engine.sockets import is_connected
from webapp.errors import ValidationFailed, details_message, pydantic_details
from webapp.input_guard import MAX_ID
from webapp.realtime.base import BaseNamespace
from webapp.rooms import session_room
from webapp.services import sessions
from webapp.services.replay import replay_into_room

M = TypeVar("M", bound=BaseModel)
MAX_MESSAGE_CHARS = 4000

# A larger id names no row and would overflow the database driver.
SessionId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
EventId = Annotated[StrictInt, Field(ge=0, le=MAX_ID)]


class SessionEvent(BaseModel):
    """A client event about one session; unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")

    session_id: SessionId


class JoinSession(SessionEvent):
    """``join_session``; with ``last_event_id`` the session room is replayed."""

    last_event_id: EventId | None = None


class SendMessage(SessionEvent):
    """``send_message``: non-blank text of at most 4000 characters."""

    text: StrictStr = Field(max_length=MAX_MESSAGE_CHARS)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text must not be empty")
        return text


def parse_event(model: type[M], data: Any) -> M:
    """Validate a client event's payload, or fail (code ``invalid``) naming fields."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        details = pydantic_details(exc, root="data")
        raise ValidationFailed(
            details_message(details), code="invalid", details=details
        ) from None


class EngagementNamespace(BaseNamespace):
    """Socket.IO handlers for /engagement."""

    def on_join_session(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Join a session: ``{ok, session_id, participants, count, session}``."""
        request = parse_event(JoinSession, data)
        result = sessions.join_session(self.identity(sid), sid, request.session_id)
        room = session_room(request.session_id)
        # Entered after user_joined went out, so the joiner is not told about itself.
        if request.last_event_id is None:
            self.enter_room(sid, room)
        else:
            result["replay"] = replay_into_room(
                sid,
                self.namespace or "/",
                room,
                request.last_event_id,
                lambda: self.enter_room(sid, room),
            )
        if not is_connected(self.server.manager, sid, self.namespace or "/"):
            # The connection dropped while joining; connection_closed may have run.
            self._leave_everything(sid)
        return {"ok": True, **result}

    def on_leave_session(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Leave a session: ``{ok, session_id, participants, count, session}``."""
        request = parse_event(SessionEvent, data)
        if request.session_id in sessions.joined_sessions(sid):
            # Left before user_left goes out: the leaver is not told about itself.
            self.leave_room(sid, session_room(request.session_id))
        result = sessions.leave_session(self.identity(sid), sid, request.session_id)
        return {"ok": True, **result}

    def on_send_message(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Send a message to a joined session: ``{ok, id}``."""
        request = parse_event(SendMessage, data)
        result = sessions.send_message(
            self.identity(sid), sid, request.session_id, request.text
        )
        return {"ok": True, **result}

    def connection_closed(self, sid: str, identity: Identity) -> None:
        """A dropped connection leaves its sessions, like an explicit leave."""
        self._leave_everything(sid)

    def _leave_everything(self, sid: str) -> None:
        for session_id in sessions.joined_sessions(sid):
            self.leave_room(sid, session_room(session_id))
        sessions.drop_connection(sid)
