"""Session presence of one process, in memory (no message queue)."""

from __future__ import annotations

from typing import Any

from webapp.services.cluster.presence.base import PresenceChange, SessionIndex, user_key


class MemoryPresence(SessionIndex):
    """In-process presence (one server process)."""

    def __init__(self) -> None:
        super().__init__()
        # session id -> user key -> (user summary, that user's connection ids)
        self._sessions: dict[int, dict[str, tuple[dict[str, Any], set[str]]]] = {}

    def join(self, session_id: int, sid: str, user: dict[str, Any]) -> PresenceChange:
        """Record that connection ``sid`` of ``user`` joined the session."""
        with self._lock:
            members = self._sessions.setdefault(session_id, {})
            key = user_key(user, sid)
            entry = members.get(key)
            first = entry is None
            if entry is None:
                entry = members[key] = (user, set())
            entry[1].add(sid)
            self._remember(sid, session_id)
            return PresenceChange(session_id, entry[0], len(members), first)

    def leave(self, session_id: int, sid: str) -> PresenceChange | None:
        """Forget ``sid`` in the session; ``None`` if it was not in it."""
        with self._lock:
            if not self._forget(sid, session_id):
                return None
            members = self._sessions.get(session_id, {})
            for key, (user, sids) in list(members.items()):
                if sid in sids:
                    sids.discard(sid)
                    last = not sids
                    if last:
                        del members[key]
                    count = len(members)
                    if not members:
                        self._sessions.pop(session_id, None)
                    return PresenceChange(session_id, user, count, last)
            return None

    def participants(self, session_id: int) -> list[dict[str, Any]]:
        """Distinct users in the session, in the order they joined."""
        with self._lock:
            return [user for user, _ in self._sessions.get(session_id, {}).values()]
