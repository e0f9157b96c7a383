"""Who is in which collaboration session, counted per user, not per connection.

``PresenceStore`` is the interface; ``MemoryPresence`` serves one process. With
``MESSAGE_QUEUE_URL`` set, ``presence_redis.RedisPresence`` (on the app's
``ClusterState``) is used instead, so every process sees the whole cluster's
participants. Either is created on first use under ``EXTENSION_KEY``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

EXTENSION_KEY = "switchboard.presence"


@dataclass(frozen=True)
class PresenceChange:
    """The result of a join or leave.

    ``changed`` is true when the user's first connection joined, or their last one
    left: only then do the others hear about it. ``count`` is distinct users.
    """

    session_id: int
    user: dict[str, Any]
    count: int
    changed: bool


class PresenceStore(Protocol):
    """Where session membership is recorded."""

    def join(self, session_id: int, sid: str, user: dict[str, Any]) -> PresenceChange:
        """Record that connection ``sid`` of ``user`` joined the session."""

    def leave(self, session_id: int, sid: str) -> PresenceChange | None:
        """Forget ``sid`` in the session; ``None`` if it was not in it."""

    def is_member(self, session_id: int, sid: str) -> bool:
        """Whether connection ``sid`` has joined the session."""

    def sessions_of(self, sid: str) -> list[int]:
        """The sessions one connection has joined."""

    def participants(self, session_id: int) -> list[dict[str, Any]]:
        """Distinct users in the session, in the order they joined."""


class MemoryPresence:
    """In-process presence (one server process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # session id -> user id -> (user summary, that user's connection ids)
        self._sessions: dict[int, dict[Any, tuple[dict[str, Any], set[str]]]] = {}
        self._by_sid: dict[str, set[int]] = {}

    def join(self, session_id: int, sid: str, user: dict[str, Any]) -> PresenceChange:
        """Record that connection ``sid`` of ``user`` joined the session."""
        with self._lock:
            members = self._sessions.setdefault(session_id, {})
            key = _user_key(user, sid)
            entry = members.get(key)
            first = entry is None
            if entry is None:
                entry = members[key] = (user, set())
            entry[1].add(sid)
            self._by_sid.setdefault(sid, set()).add(session_id)
            return PresenceChange(session_id, entry[0], len(members), first)

    def leave(self, session_id: int, sid: str) -> PresenceChange | None:
        """Forget ``sid`` in the session; ``None`` if it was not in it."""
        with self._lock:
            joined = self._by_sid.get(sid)
            if not joined or session_id not in joined:
                return None
            joined.discard(session_id)
            if not joined:
                del self._by_sid[sid]
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

    def is_member(self, session_id: int, sid: str) -> bool:
        """Whether connection ``sid`` has joined the session."""
        with self._lock:
            return session_id in self._by_sid.get(sid, ())

    def sessions_of(self, sid: str) -> list[int]:
        """The sessions one connection has joined."""
        with self._lock:
            return sorted(self._by_sid.get(sid, ()))

    def participants(self, session_id: int) -> list[dict[str, Any]]:
        """Distinct users in the session, in the order they joined."""
        with self._lock:
            return [user for user, _ in self._sessions.get(session_id, {}).values()]


def _user_key(user: dict[str, Any], sid: str) -> Any:
    """Connections of one user count once; a user-less identity counts per sid."""
    user_id = user.get("id")
    return ("user", user_id) if user_id is not None else ("sid", sid)


def presence_store() -> PresenceStore:
    """The app's store: Redis-backed in a cluster, in memory otherwise."""
    from webapp.services.cluster import app_store
    from webapp.services.presence_redis import RedisPresence

    store: PresenceStore = app_store(EXTENSION_KEY, MemoryPresence, RedisPresence)
    return store
