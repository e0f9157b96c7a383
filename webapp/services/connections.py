"""Live connection bookkeeping: counts for /ws/stats, caps, sockets per token.

``ConnectionRegistry`` is the interface; ``MemoryConnectionRegistry`` serves one
process; with ``MESSAGE_QUEUE_URL`` set, ``connections_redis.RedisConnectionRegistry``
serves the whole cluster.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app


@dataclass(frozen=True)
class ConnectionInfo:
    """One namespace connection."""

    sid: str
    namespace: str
    tenant_id: int
    user_id: int | None
    jti: str | None


class ConnectionRegistry(Protocol):
    """Where live connections are recorded."""

    def add(self, info: ConnectionInfo) -> None:
        """Record a new connection."""

    def remove(self, sid: str, namespace: str) -> ConnectionInfo | None:
        """Forget a connection; returns what was recorded."""

    def all(self) -> list[ConnectionInfo]:
        """Every live connection."""

    def count(self) -> int:
        """Number of live connections."""

    def count_for_user(self, user_id: int, namespace: str) -> int:
        """Live connections of one user on one namespace."""

    def for_token(self, jti: str) -> list[ConnectionInfo]:
        """Connections opened with one token."""


class MemoryConnectionRegistry:
    """In-process registry (one server process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], ConnectionInfo] = {}

    def add(self, info: ConnectionInfo) -> None:
        """Record a new connection."""
        with self._lock:
            self._by_key[(info.namespace, info.sid)] = info

    def remove(self, sid: str, namespace: str) -> ConnectionInfo | None:
        """Forget a connection; returns what was recorded."""
        with self._lock:
            return self._by_key.pop((namespace, sid), None)

    def all(self) -> list[ConnectionInfo]:
        """Every live connection."""
        with self._lock:
            return list(self._by_key.values())

    def count(self) -> int:
        """Number of live connections."""
        with self._lock:
            return len(self._by_key)

    def count_for_user(self, user_id: int, namespace: str) -> int:
        """Live connections of one user on one namespace."""
        return sum(
            1 for c in self.all() if c.user_id == user_id and c.namespace == namespace
        )

    def for_token(self, jti: str) -> list[ConnectionInfo]:
        """Connections opened with one token."""
        return [c for c in self.all() if c.jti == jti]


def init_connections(app: Flask) -> None:
    """Attach the registry: in memory, or in Redis when a message queue is set."""
    if app.config.get("MESSAGE_QUEUE_URL"):
        from webapp.services.cluster import init_cluster_state
        from webapp.services.connections_redis import RedisConnectionRegistry

        state = init_cluster_state(app)
        app.extensions["switchboard.connections"] = RedisConnectionRegistry(state)
        return
    app.extensions["switchboard.connections"] = MemoryConnectionRegistry()


def registry() -> ConnectionRegistry:
    """The current app's connection registry."""
    reg: ConnectionRegistry = current_app.extensions["switchboard.connections"]
    return reg


def stats(tenant_ids: list[int] | None) -> dict[str, object]:
    """Counts in total, per namespace and per tenant, limited to ``tenant_ids``."""
    visible = set(tenant_ids) if tenant_ids is not None else None
    conns = [c for c in registry().all() if visible is None or c.tenant_id in visible]
    per_tenant: dict[str, dict[str, object]] = {}
    for tenant_id in sorted({c.tenant_id for c in conns} | (visible or set())):
        mine = [c for c in conns if c.tenant_id == tenant_id]
        per_tenant[str(tenant_id)] = {
            "total": len(mine),
            "namespaces": dict(Counter(c.namespace for c in mine)),
        }
    return {
        "total": len(conns),
        "namespaces": dict(Counter(c.namespace for c in conns)),
        "tenants": per_tenant,
    }


def active_connections() -> int:
    """Number of live namespace connections (no tenant data)."""
    return registry().count()
