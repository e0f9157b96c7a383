"""Cluster-wide state in Redis: per-process hashes kept alive by a heartbeat.

Each process writes only its own entries, into hashes named after its process id,
and a heartbeat refreshes their TTL. When a process dies its keys expire and it
drops out of every read, so counts never drift. Each process also keeps a local
mirror of what it wrote and rewrites it when Redis lost it (restart, outage), so
Redis catches up without a restart. Reuse it for any "what does each process
hold" state: connections, session presence, the latest reading per process.

Keys (``prefix`` is ``MESSAGE_QUEUE_CHANNEL``)::

    {prefix}:procs              set of process ids that ever wrote
    {prefix}:alive:{pid}        heartbeat key (TTL)
    {prefix}:h:{name}:{pid}     one process's entries of hash ``name`` (TTL)
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, current_app

from webapp.services.cluster.message_queue import MessageQueueUnavailable, redis_client

logger = logging.getLogger(__name__)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ClusterState:
    """Per-process hashes in Redis with a heartbeat TTL and a local mirror."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        ttl: float,
        process_id: str | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = max(1, int(round(ttl)))
        self.process_id = process_id or (
            f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        )
        self._lock = threading.RLock()
        self._mirror: dict[str, dict[str, str]] = {}
        self._dirty = True  # nothing written yet: the first heartbeat syncs
        self._started = False

    # -------------------------------------------------------------- key names
    @property
    def _procs_key(self) -> str:
        return f"{self.prefix}:procs"

    def _alive_key(self, pid: str) -> str:
        return f"{self.prefix}:alive:{pid}"

    def _hash_key(self, name: str, pid: str) -> str:
        return f"{self.prefix}:h:{name}:{pid}"

    # ------------------------------------------------------------------ writes
    def set(self, name: str, field: str, value: str) -> None:
        """Record ``field`` in this process's part of hash ``name``."""
        with self._lock:
            self._mirror.setdefault(name, {})[field] = value
            if self._dirty:
                return  # the next successful heartbeat rewrites everything
            key = self._hash_key(name, self.process_id)
            self._write(lambda pipe: pipe.hset(key, field, value).expire(key, self.ttl))

    def delete(self, name: str, field: str) -> str | None:
        """Forget ``field`` from this process's part of ``name``; its old value."""
        with self._lock:
            entries = self._mirror.get(name, {})
            value = entries.pop(field, None)
            if not entries:
                self._mirror.pop(name, None)
            if value is not None and not self._dirty:
                key = self._hash_key(name, self.process_id)
                self._write(lambda pipe: pipe.hdel(key, field))
            return value

    def local(self, name: str) -> dict[str, str]:
        """This process's own entries of ``name`` (no Redis round-trip)."""
        with self._lock:
            return dict(self._mirror.get(name, {}))

    def _write(self, build: Callable[[Any], Any]) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            build(pipe)
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("cluster state: Redis write failed (%s); will resync", exc)
            self._dirty = True

    # ------------------------------------------------------------------- reads
    def live_processes(self) -> list[str]:
        """Processes whose heartbeat has not expired; forgets the dead ones."""
        try:
            pids = sorted(_text(p) for p in self.client.smembers(self._procs_key))
            pipe = self.client.pipeline(transaction=False)
            for pid in pids:
                pipe.exists(self._alive_key(pid))
            alive = pipe.execute()
            dead = [pid for pid, ok in zip(pids, alive, strict=True) if not ok]
            if dead:
                self.client.srem(self._procs_key, *dead)
        except redis.RedisError as exc:
            raise MessageQueueUnavailable("cluster state is unreachable") from exc
        return [pid for pid, ok in zip(pids, alive, strict=True) if ok]

    def entries(self, name: str) -> dict[str, dict[str, str]]:
        """Every live process's entries of ``name``: ``{pid: {field: value}}``."""
        pids = self.live_processes()
        try:
            pipe = self.client.pipeline(transaction=False)
            for pid in pids:
                pipe.hgetall(self._hash_key(name, pid))
            results = pipe.execute()
        except redis.RedisError as exc:
            raise MessageQueueUnavailable("cluster state is unreachable") from exc
        return {
            pid: {_text(k): _text(v) for k, v in found.items()}
            for pid, found in zip(pids, results, strict=True)
        }

    def values(self, name: str) -> list[str]:
        """Every live process's values of ``name``, flattened."""
        return [v for found in self.entries(name).values() for v in found.values()]

    def field_values(self, name: str, field: str) -> list[str]:
        """The value of one ``field`` in each live process that has it."""
        pids = self.live_processes()
        try:
            pipe = self.client.pipeline(transaction=False)
            for pid in pids:
                pipe.hget(self._hash_key(name, pid), field)
            results = pipe.execute()
        except redis.RedisError as exc:
            raise MessageQueueUnavailable("cluster state is unreachable") from exc
        return [_text(r) for r in results if r is not None]

    def count(self, name: str) -> int:
        """Number of entries of ``name`` across live processes."""
        pids = self.live_processes()
        try:
            pipe = self.client.pipeline(transaction=False)
            for pid in pids:
                pipe.hlen(self._hash_key(name, pid))
            return sum(int(n) for n in pipe.execute())
        except redis.RedisError as exc:
            raise MessageQueueUnavailable("cluster state is unreachable") from exc

    # --------------------------------------------------------------- heartbeat
    def heartbeat(self) -> bool:
        """Refresh this process's TTLs; rewrite everything if Redis lost it."""
        with self._lock:
            try:
                pipe = self.client.pipeline(transaction=False)
                pipe.sadd(self._procs_key, self.process_id)
                pipe.set(self._alive_key(self.process_id), "1", ex=self.ttl, get=True)
                was_alive = pipe.execute()[1] is not None
                resync = self._dirty or not was_alive
                pipe = self.client.pipeline(transaction=True)
                for name, entries in self._mirror.items():
                    key = self._hash_key(name, self.process_id)
                    if resync:
                        pipe.delete(key)
                        pipe.hset(key, mapping=dict[Any, Any](entries))
                    pipe.expire(key, self.ttl)
                pipe.execute()
            except redis.RedisError as exc:
                if not self._dirty:
                    logger.warning("cluster heartbeat failed: %s", exc)
                self._dirty = True
                return False
            if resync and self._mirror:
                logger.info("cluster state resynced (%d hashes)", len(self._mirror))
            self._dirty = False
            return True

    @property
    def started(self) -> bool:
        """True once the heartbeat runs."""
        return self._started

    def start(self, spawn: Callable[..., Any], sleep: Callable[[float], Any]) -> None:
        """Run the heartbeat every TTL/3 in a background task (once)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self.heartbeat()

        def loop() -> None:
            while True:
                sleep(self.ttl / 3)
                try:
                    self.heartbeat()
                except Exception:  # never let the heartbeat task die
                    logger.exception("cluster heartbeat crashed")

        spawn(loop)


def init_cluster_state(app: Flask) -> ClusterState:
    """Create the app's ``ClusterState`` from ``MESSAGE_QUEUE_URL``."""
    state = ClusterState(
        redis_client(app.config["MESSAGE_QUEUE_URL"]),
        prefix=app.config["MESSAGE_QUEUE_CHANNEL"],
        ttl=app.config["CLUSTER_HEARTBEAT_TTL"],
    )
    app.extensions["switchboard.cluster"] = state
    return state


def cluster_state(writer: bool = False) -> ClusterState:
    """The current app's ``ClusterState``; a ``writer`` starts the heartbeat."""
    state: ClusterState = current_app.extensions["switchboard.cluster"]
    if writer and not state.started:
        sio = current_app.extensions.get("socketio")
        if sio is not None:
            state.start(sio.start_background_task, sio.sleep)
        else:  # pragma: no cover - only before the server exists
            state.start(
                lambda f: threading.Thread(target=f, daemon=True).start(), time.sleep
            )
    return state


def app_store(
    key: str,
    in_memory: Callable[[], Any],
    clustered: Callable[[ClusterState], Any],
) -> Any:
    """The app's store under ``key``, made on first use.

    Redis-backed (on the app's ``ClusterState``) when the app runs in a cluster,
    in memory for one process.
    """
    store = current_app.extensions.get(key)
    if store is None:
        state = current_app.extensions.get("switchboard.cluster")
        if current_app.config.get("MESSAGE_QUEUE_URL") and state is not None:
            made = clustered(state)
        else:
            made = in_memory()
        store = current_app.extensions.setdefault(key, made)
    return store
