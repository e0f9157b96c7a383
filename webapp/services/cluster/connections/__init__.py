"""Live connection bookkeeping: counts for /ws/stats, caps, sockets per token.

``ConnectionRegistry`` (``base.py``) is the interface; ``MemoryConnectionRegistry``
(``memory_store.py``) serves one process; with ``MESSAGE_QUEUE_URL`` set,
``RedisConnectionRegistry`` (``redis_store.py``) serves the whole cluster.
``init_connections`` picks one for the app.
"""

from __future__ import annotations

from collections import Counter

from flask import Flask, current_app

from webapp.services.cluster.connections.base import (
    ConnectionInfo,
    ConnectionRegistry,
)
from webapp.services.cluster.connections.memory_store import MemoryConnectionRegistry
from webapp.services.cluster.connections.redis_store import RedisConnectionRegistry
from webapp.services.cluster.state import init_cluster_state

__all__ = [
    "ConnectionInfo",
    "ConnectionRegistry",
    "MemoryConnectionRegistry",
    "RedisConnectionRegistry",
    "active_connections",
    "init_connections",
    "registry",
    "stats",
]


def init_connections(app: Flask) -> None:
    """Attach the registry: in memory, or in Redis when a message queue is set."""
    if app.config.get("MESSAGE_QUEUE_URL"):
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
