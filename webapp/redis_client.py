"""Redis clients that fail fast, and the error a Redis outage raises (503)."""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from webapp.errors import DependencyDown


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
