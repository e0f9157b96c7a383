"""The /engagement namespace: collaboration sessions (join, leave, messages).

Engagement broadcasts (``engagement_update``, ``interaction_update``, ``alert``)
reach connections through the tenant and MSP rooms they enter at connect.
"""

from __future__ import annotations

from typing import Any

from webapp.auth.identity import Identity
from webapp.engine.sockets import is_connected
from webapp.realtime.namespaces.base import BaseNamespace
from webapp.realtime.schemas import JoinSession, SendMessage, SessionEvent, parse_event
from webapp.rooms import session_room
from webapp.services.delivery.replay import replay_into_room
from webapp.services.engagement import sessions


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
