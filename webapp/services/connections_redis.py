"""The cluster's connection registry: every process's connections, in Redis.

Each process records its own connections in its part of two ``ClusterState``
hashes: ``connections`` (``namespace|sid`` -> the ``ConnectionInfo`` as JSON) and
``user-connections`` (``user_id|namespace`` -> how many this process holds), so a
per-user cap costs one round-trip per process, not a scan. The in-memory registry
stays the source of truth for this process's own connections.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

from webapp.services.cluster import ClusterState, cluster_state
from webapp.services.connections import ConnectionInfo, MemoryConnectionRegistry
from webapp.services.message_queue import MessageQueueUnavailable

logger = logging.getLogger(__name__)

CONNECTIONS = "connections"
USER_CONNECTIONS = "user-connections"


def _key(sid: str, namespace: str) -> str:
    return f"{namespace}|{sid}"


def _decode(raw: str) -> ConnectionInfo:
    return ConnectionInfo(**json.loads(raw))


class RedisConnectionRegistry:
    """Connections of every live process; this process's own kept in memory too."""

    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self._local = MemoryConnectionRegistry()

    def add(self, info: ConnectionInfo) -> None:
        """Record a new connection of this process."""
        cluster_state(writer=True)  # this process holds connections: heartbeat
        self._local.add(info)
        self.state.set(
            CONNECTIONS, _key(info.sid, info.namespace), json.dumps(asdict(info))
        )
        self._update_user_count(info)

    def remove(self, sid: str, namespace: str) -> ConnectionInfo | None:
        """Forget a connection of this process; returns what was recorded."""
        info = self._local.remove(sid, namespace)
        if info is not None:
            self.state.delete(CONNECTIONS, _key(sid, namespace))
            self._update_user_count(info)
        return info

    def _update_user_count(self, info: ConnectionInfo) -> None:
        if info.user_id is None:
            return
        field = f"{info.user_id}|{info.namespace}"
        count = self._local.count_for_user(info.user_id, info.namespace)
        if count:
            self.state.set(USER_CONNECTIONS, field, str(count))
        else:
            self.state.delete(USER_CONNECTIONS, field)

    def all(self) -> list[ConnectionInfo]:
        """Every live connection in the cluster (503 while Redis is down)."""
        return [_decode(raw) for raw in self.state.values(CONNECTIONS)]

    def count(self) -> int:
        """Number of live connections in the cluster (503 while Redis is down)."""
        return self.state.count(CONNECTIONS)

    def count_for_user(self, user_id: int, namespace: str) -> int:
        """A user's connections on one namespace, cluster-wide.

        While Redis is down only this process's connections are counted: refusing
        every connection would be worse than a cap enforced per process.
        """
        try:
            values = self.state.field_values(USER_CONNECTIONS, f"{user_id}|{namespace}")
        except MessageQueueUnavailable:
            logger.warning("Redis down: per-user cap counts this process only")
            return self._local.count_for_user(user_id, namespace)
        return sum(int(v) for v in values)

    def for_token(self, jti: str) -> list[ConnectionInfo]:
        """Connections opened with one token, on any process."""
        try:
            return [c for c in self.all() if c.jti == jti]
        except MessageQueueUnavailable:
            logger.warning("Redis down: only this process's sockets for a token")
            return self._local.for_token(jti)
