"""The Redis message queue: is-it-up checks before a publish, and readiness.

Publishing checks the queue *before* persisting (``ensure_available``), so an
outage answers 503 with nothing written; a failure after the commit is reported
by the emit itself (see ``engine.cluster_manager.ClusterRedisManager``). Both give
up within about a second: a frozen Redis answers like an absent one. The client and
the outage error are in ``webapp/redis_client.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from flask import current_app

from webapp.redis_client import MessageQueueUnavailable, redis_client

logger = logging.getLogger(__name__)

# How long a check's answer (up or down) is trusted before the next one pings.
CHECK_INTERVAL = 1.0
NOT_PUBLISHED = "the message queue is unreachable; nothing was published"


class QueueHealth:
    """Remembers whether the queue answered recently, so publishes rarely ping.

    A failure is remembered too: while Redis is slow or frozen, requests answer
    503 at once instead of each waiting out a ping's timeout, and requests that
    arrive during a ping wait for that one ping rather than queueing their own.
    """

    def __init__(self, url: str) -> None:
        self.client = redis_client(url)
        self._lock = threading.Lock()
        self._ok_until = 0.0
        self._down_until = 0.0

    def ensure_available(self) -> None:
        """Raise ``MessageQueueUnavailable`` unless Redis answers (cached ~1 s)."""
        now = time.monotonic()
        if now < self._ok_until:
            return
        if now < self._down_until:
            raise MessageQueueUnavailable(NOT_PUBLISHED)
        if not self._lock.acquire(blocking=False):
            with self._lock:  # another request is asking Redis: use its answer
                pass
            if time.monotonic() < self._ok_until:
                return
            raise MessageQueueUnavailable(NOT_PUBLISHED)
        try:
            self.client.ping()
        except redis.RedisError as exc:
            self.mark_down()
            raise MessageQueueUnavailable(NOT_PUBLISHED) from exc
        finally:
            self._lock.release()
        self._ok_until = time.monotonic() + CHECK_INTERVAL

    def mark_down(self) -> None:
        """Remember a failure (a ping, or an emit): refuse at once for a moment."""
        self._ok_until = 0.0
        self._down_until = time.monotonic() + CHECK_INTERVAL


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
