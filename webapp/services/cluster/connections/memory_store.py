"""The connection registry of one process, in memory (no message queue)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TypeVar

from webapp.services.cluster.connections.base import ConnectionInfo

K = TypeVar("K")
Key = tuple[str, str]  # (namespace, sid)


class MemoryConnectionRegistry:
    """In-process registry (one server process).

    Per-user counts and per-token/per-user lists are indexes kept on add/remove,
    so the cap check at connect is O(1) however many connections are live.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], ConnectionInfo] = {}
        self._per_user: Counter[tuple[int, str]] = Counter()
        self._by_token: dict[str, set[tuple[str, str]]] = {}
        self._by_user: dict[int, set[tuple[str, str]]] = {}

    def add(self, info: ConnectionInfo) -> None:
        """Record a new connection."""
        key = (info.namespace, info.sid)
        with self._lock:
            if key in self._by_key:
                self._unindex(key, self._by_key[key])
            self._by_key[key] = info
            if info.user_id is not None:
                self._per_user[(info.user_id, info.namespace)] += 1
                self._by_user.setdefault(info.user_id, set()).add(key)
            if info.jti is not None:
                self._by_token.setdefault(info.jti, set()).add(key)

    def remove(self, sid: str, namespace: str) -> ConnectionInfo | None:
        """Forget a connection; returns what was recorded."""
        key = (namespace, sid)
        with self._lock:
            info = self._by_key.pop(key, None)
            if info is not None:
                self._unindex(key, info)
            return info

    def _unindex(self, key: tuple[str, str], info: ConnectionInfo) -> None:
        if info.user_id is not None:
            counted = (info.user_id, info.namespace)
            self._per_user[counted] -= 1
            if self._per_user[counted] <= 0:
                del self._per_user[counted]
            _discard(self._by_user, info.user_id, key)
        if info.jti is not None:
            _discard(self._by_token, info.jti, key)

    def all(self) -> list[ConnectionInfo]:
        """Every live connection."""
        with self._lock:
            return list(self._by_key.values())

    def count(self) -> int:
        """Number of live connections."""
        with self._lock:
            return len(self._by_key)

    def count_for_user(self, user_id: int, namespace: str) -> int:
        """Live connections of one user on one namespace (O(1))."""
        return self._per_user.get((user_id, namespace), 0)

    def for_token(self, jti: str) -> list[ConnectionInfo]:
        """Connections opened with one token."""
        with self._lock:
            return [self._by_key[k] for k in self._by_token.get(jti, ())]

    def for_user(self, user_id: int) -> list[ConnectionInfo]:
        """Connections of one user, on every namespace."""
        with self._lock:
            return [self._by_key[k] for k in self._by_user.get(user_id, ())]

    def local(self) -> list[ConnectionInfo]:
        """This process's own live connections (all of them, here)."""
        return self.all()


def _discard(
    index: dict[K, set[tuple[str, str]]], owner: K, key: tuple[str, str]
) -> None:
    keys = index.get(owner)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[owner]
