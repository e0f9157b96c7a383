"""What presence records, and the bookkeeping both stores share.

``SessionIndex`` keeps which sessions each connection *of this process* joined
(``is_member``, ``sessions_of``); the stores differ only in where the members of
a session are kept and counted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol


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


class SessionIndex:
    """This process's connections -> the sessions each joined (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_sid: dict[str, set[int]] = {}

    def _remember(self, sid: str, session_id: int) -> None:
        """Record that ``sid`` joined ``session_id`` (call with the lock held)."""
        self._by_sid.setdefault(sid, set()).add(session_id)

    def _forget(self, sid: str, session_id: int) -> bool:
        """Forget ``sid`` in ``session_id`` (lock held); False if it was not in it."""
        joined = self._by_sid.get(sid)
        if not joined or session_id not in joined:
            return False
        joined.discard(session_id)
        if not joined:
            del self._by_sid[sid]
        return True

    def is_member(self, session_id: int, sid: str) -> bool:
        """Whether connection ``sid`` (of this process) has joined the session."""
        with self._lock:
            return session_id in self._by_sid.get(sid, ())

    def sessions_of(self, sid: str) -> list[int]:
        """The sessions one connection (of this process) has joined."""
        with self._lock:
            return sorted(self._by_sid.get(sid, ()))


def user_key(user: dict[str, Any], sid: str) -> str:
    """Connections of one user count once; a user-less identity counts per sid."""
    user_id = user.get("id")
    return f"user:{user_id}" if user_id is not None else f"sid:{sid}"
