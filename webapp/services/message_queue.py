"""The Redis message queue: clients with short timeouts, and is-it-up checks.

Publishing checks the queue *before* persisting (``ensure_available``), so an
outage answers 503 with nothing written; a failure after the commit is reported
by the emit itself (see ``realtime.server.ClusterRedisManager``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from webapp.errors import DependencyDown

logger = logging.getLogger(__name__)

# How long a successful check is trusted before the next publish pings again.
CHECK_INTERVAL = 1.0


class MessageQueueUnavailable(DependencyDown):
    """The message queue (Redis) could not be reached (503)."""

    def __init__(self, message: str = "the message queue is unreachable", **kw: Any):
        super().__init__(message, **kw)


def redis_client(url: str, timeout: float = 1.0) -> redis.Redis:
    """A client that fails fast (no retries): callers decide what an outage means."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


class QueueHealth:
    """Remembers whether the queue answered recently, so publishes rarely ping."""

    def __init__(self, url: str) -> None:
        self.client = redis_client(url)
        self._lock = threading.Lock()
        self._ok_until = 0.0

    def ensure_available(self) -> None:
        """Raise ``MessageQueueUnavailable`` unless Redis answers (cached ~1 s)."""
        if time.monotonic() < self._ok_until:
            return
        with self._lock:
            try:
                self.client.ping()
            except redis.RedisError as exc:
                self._ok_until = 0.0
                raise MessageQueueUnavailable(
                    "the message queue is unreachable; nothing was published"
                ) from exc
            self._ok_until = time.monotonic() + CHECK_INTERVAL

    def mark_down(self) -> None:
        """Forget the last success (an emit just failed)."""
        self._ok_until = 0.0


def queue_health() -> QueueHealth | None:
    """The current app's queue health checker; ``None`` without a queue."""
    url = current_app.config.get("MESSAGE_QUEUE_URL")
    if not url:
        return None
    health: QueueHealth | None = current_app.extensions.get("switchboard.queue")
    if health is None:
        health = QueueHealth(url)
        current_app.extensions["switchboard.queue"] = health
    return health


def ensure_available() -> None:
    """Refuse to publish while the configured queue is down (no-op without one)."""
    health = queue_health()
    if health is not None:
        health.ensure_available()


def ping(url: str) -> dict[str, Any]:
    """Readiness check result for the queue at ``url``."""
    try:
        redis_client(url).ping()
        return {"ok": True}
    except Exception as exc:  # any client error means "not ready"
        return {"ok": False, "error": type(exc).__name__}
