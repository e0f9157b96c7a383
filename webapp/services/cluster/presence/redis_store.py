"""Session presence for a cluster: every process's session members, in Redis.

Each process records its own connections in its part of one ``ClusterState`` hash
per session, ``presence:{session_id}``: ``sid`` -> ``{"user": …, "at": …}`` (JSON;
``at`` is the join time, for ordering). Users are derived by reading every live
process's part and counting distinct user ids, so a user with tabs on two
processes counts once, and a killed process's members drop out of every read
within ``CLUSTER_HEARTBEAT_TTL``.

Deciding "first tab anywhere joined" / "last tab anywhere left" needs the write
and the cluster-wide read to be one step: two tabs of one user joining (or
leaving) on two processes at once would otherwise both, or neither, announce.
Joins and leaves of one session are therefore serialised by a short Redis lock;
the process where the join or leave happens decides and announces. Without the
lock (Redis down or the lock timing out) it still works, at worst announcing a
user twice or not at all while the counts stay right.

When a whole process dies nobody announces ``user_left`` for its users: its
entries expire, so participants and the count in the next ``user_joined``,
``user_left``, ``join_session`` ack or ``GET /api/sessions/<id>`` are right again
(self-correcting; there is no sweeper).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.exceptions import LockError

from webapp.services.cluster.message_queue import MessageQueueUnavailable
from webapp.services.cluster.presence.base import PresenceChange, SessionIndex, user_key
from webapp.services.cluster.state import ClusterState, cluster_state

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = 5.0  # a lock holder that died frees the session after this long
LOCK_WAIT = 2.0  # how long a join/leave waits for the lock before going without


def _name(session_id: int) -> str:
    return f"presence:{session_id}"


@dataclass
class _Member:
    """One distinct user of a session, as seen across the cluster."""

    user: dict[str, Any]
    since: tuple[float, str]  # (join time, sid) of the user's earliest connection
    sids: set[str] = field(default_factory=set)


class RedisPresence(SessionIndex):
    """Presence across every live process; this process's own sids indexed locally."""

    def __init__(self, state: ClusterState) -> None:
        super().__init__()
        self.state = state

    # ------------------------------------------------------------------ writes
    def join(self, session_id: int, sid: str, user: dict[str, Any]) -> PresenceChange:
        """Record that connection ``sid`` of ``user`` joined the session."""
        cluster_state(writer=True)  # this process holds presence: heartbeat
        name = _name(session_id)
        with self._session_lock(session_id):
            with self._lock:
                self._remember(sid, session_id)
            again = sid in self.state.local(name)  # a repeated join changes nothing
            if not again:
                entry = json.dumps({"user": user, "at": time.time()})
                self.state.set(name, sid, entry)
            members = self._members(session_id)
        member = members[user_key(user, sid)]
        first = not again and member.sids == {sid}
        return PresenceChange(session_id, member.user, len(members), first)

    def leave(self, session_id: int, sid: str) -> PresenceChange | None:
        """Forget ``sid`` in the session; ``None`` if it was not in it."""
        with self._lock:
            if not self._forget(sid, session_id):
                return None
        with self._session_lock(session_id):
            raw = self.state.delete(_name(session_id), sid)
            if raw is None:
                return None
            members = self._members(session_id)
        user: dict[str, Any] = json.loads(raw)["user"]
        remaining = members.get(user_key(user, sid))
        if remaining is not None:  # another tab of the user, on any process
            return PresenceChange(session_id, remaining.user, len(members), False)
        return PresenceChange(session_id, user, len(members), True)

    # ------------------------------------------------------------------- reads
    def participants(self, session_id: int) -> list[dict[str, Any]]:
        """Distinct users in the session cluster-wide, in the order they joined."""
        return [member.user for member in self._members(session_id).values()]

    def _members(self, session_id: int) -> dict[str, _Member]:
        """Distinct users of the session, earliest first.

        This process's own part comes from its local mirror (authoritative even
        while a write to Redis is pending); while Redis is down only that part is
        known, so presence degrades to this process instead of failing.
        """
        name = _name(session_id)
        try:
            found = self.state.entries(name)
        except MessageQueueUnavailable:
            logger.warning("Redis down: session presence counts this process only")
            found = {}
        found[self.state.process_id] = self.state.local(name)
        members: dict[str, _Member] = {}
        for entries in found.values():
            for sid, raw in entries.items():
                try:
                    entry = json.loads(raw)
                    user: dict[str, Any] = entry["user"]
                    since = (float(entry["at"]), sid)
                except (ValueError, KeyError, TypeError):
                    logger.warning("ignoring a malformed presence entry %r", raw)
                    continue
                key = user_key(user, sid)
                member = members.get(key)
                if member is None:
                    member = members[key] = _Member(user, since)
                elif since < member.since:
                    member.user, member.since = user, since
                member.sids.add(sid)
        return dict(sorted(members.items(), key=lambda item: item[1].since))

    # ------------------------------------------------------------------ locking
    @contextmanager
    def _session_lock(self, session_id: int) -> Iterator[None]:
        """Serialise joins and leaves of one session across the cluster.

        Best effort: when Redis cannot give the lock in ``LOCK_WAIT`` seconds the
        change goes ahead unlocked (announcements may then repeat or be missed;
        the counts stay right).
        """
        lock = self.state.client.lock(
            f"{self.state.prefix}:presence-lock:{session_id}",
            timeout=LOCK_TIMEOUT,
            sleep=0.005,
            blocking_timeout=LOCK_WAIT,
        )
        try:
            held = bool(lock.acquire())
        except (redis.RedisError, LockError) as exc:
            logger.warning("presence lock unavailable (%s); going without", exc)
            held = False
        if not held:
            logger.debug("presence lock for session %s not acquired", session_id)
        try:
            yield
        finally:
            if held:
                try:
                    lock.release()
                except (redis.RedisError, LockError) as exc:
                    logger.warning("presence lock release failed: %s", exc)
