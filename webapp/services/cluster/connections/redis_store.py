"""The cluster's connection registry: every process's connections, in Redis.

Each process records its own connections in its part of two ``ClusterState``
hashes: ``connections`` (``namespace|sid`` -> the ``ConnectionInfo`` as JSON) and
``user-connections`` (``user_id|namespace`` -> how many this process holds), so a
per-user cap costs one round-trip (a Lua script summing the other live processes'
counts) plus this process's own count from memory, never a scan. The in-memory
registry stays the source of truth for this process's own connections.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import redis

from webapp.services.cluster.connections.base import ConnectionInfo
from webapp.services.cluster.connections.memory_store import MemoryConnectionRegistry
from webapp.services.cluster.message_queue import MessageQueueUnavailable
from webapp.services.cluster.state import ClusterState, cluster_state

logger = logging.getLogger(__name__)

CONNECTIONS = "connections"
USER_CONNECTIONS = "user-connections"

# Sum one field of hash USER_CONNECTIONS over the live processes other than the
# caller, in one round-trip (key names as in ClusterState; one Redis, not Redis
# Cluster, so reading keys computed in the script is fine).
# ARGV: prefix, hash name, own process id, field.
_SUM_OTHERS = """
local total = 0
for _, pid in ipairs(redis.call('SMEMBERS', ARGV[1] .. ':procs')) do
  if pid ~= ARGV[3] and redis.call('EXISTS', ARGV[1] .. ':alive:' .. pid) == 1 then
    local v = redis.call('HGET', ARGV[1] .. ':h:' .. ARGV[2] .. ':' .. pid, ARGV[4])
    if v then total = total + tonumber(v) end
  end
end
return total
"""


def _key(sid: str, namespace: str) -> str:
    return f"{namespace}|{sid}"


def _decode(raw: str) -> ConnectionInfo:
    return ConnectionInfo(**json.loads(raw))


class RedisConnectionRegistry:
    """Connections of every live process; this process's own kept in memory too."""

    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self._local = MemoryConnectionRegistry()
        self._sum_others = state.client.register_script(_SUM_OTHERS)

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

        This process's own are counted in memory (so connects racing on this
        process see each other), the other processes' in one Redis round-trip.
        While Redis is down only this process's connections are counted: refusing
        every connection would be worse than a cap enforced per process.
        """
        field = f"{user_id}|{namespace}"
        try:
            others = int(
                self._sum_others(
                    args=[
                        self.state.prefix,
                        USER_CONNECTIONS,
                        self.state.process_id,
                        field,
                    ]
                )
            )
        except redis.RedisError:
            logger.warning("Redis down: per-user cap counts this process only")
            others = 0
        # Read after the round-trip (which yields): a connect of the same user on
        # this process that registered meanwhile is counted, and in the common
        # case nothing yields between here and this connect's own registration.
        return others + self._local.count_for_user(user_id, namespace)

    def for_token(self, jti: str) -> list[ConnectionInfo]:
        """Connections opened with one token, on any process."""
        try:
            return [c for c in self.all() if c.jti == jti]
        except MessageQueueUnavailable:
            logger.warning("Redis down: only this process's sockets for a token")
            return self._local.for_token(jti)

    def for_user(self, user_id: int) -> list[ConnectionInfo]:
        """Connections of one user, on any process."""
        try:
            return [c for c in self.all() if c.user_id == user_id]
        except MessageQueueUnavailable:
            logger.warning("Redis down: only this process's sockets for a user")
            return self._local.for_user(user_id)

    def local(self) -> list[ConnectionInfo]:
        """This process's own live connections."""
        return self._local.all()
