"""Throttle password guessing: too many failed logins for one email from one
address answer 429 until the window passes.

Counts live in memory for one process and in Redis (``INCR`` + ``EXPIRE``) when
``MESSAGE_QUEUE_URL`` is set, so a cluster shares them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Protocol

from flask import Flask, current_app

from webapp import metrics
from webapp.errors import RateLimited

logger = logging.getLogger(__name__)


# Entries kept in memory before expired ones are swept.
SWEEP_THRESHOLD = 10_000


class FailureCounter(Protocol):
    """Counts failures per key within a window."""

    def count(self, key: str) -> int:
        """Failures recorded for ``key`` in the current window."""

    def add(self, key: str, window: int) -> int:
        """Record one failure; return the new count."""

    def clear(self, key: str) -> None:
        """Forget ``key`` (after a successful login)."""


class MemoryFailureCounter:
    """One process's counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, float]] = {}

    def count(self, key: str) -> int:
        """Failures recorded for ``key`` in the current window."""
        with self._lock:
            count, expires = self._entries.get(key, (0, 0.0))
            return count if expires > time.monotonic() else 0

    def add(self, key: str, window: int) -> int:
        """Record one failure; return the new count."""
        now = time.monotonic()
        with self._lock:
            if len(self._entries) > SWEEP_THRESHOLD:  # drop expired keys
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
            count, expires = self._entries.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + window
            self._entries[key] = (count + 1, expires)
            return count + 1

    def clear(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._entries.pop(key, None)


class RedisFailureCounter:
    """Counts shared by every process through Redis."""

    def __init__(self, url: str, prefix: str) -> None:
        from webapp.services.cluster.message_queue import redis_client

        self._redis = redis_client(url)
        self._prefix = prefix

    def count(self, key: str) -> int:
        """Failures recorded for ``key`` in the current window."""
        value = self._redis.get(self._prefix + key)
        return int(value) if value is not None else 0  # type: ignore[arg-type]

    def add(self, key: str, window: int) -> int:
        """Record one failure; return the new count."""
        pipe = self._redis.pipeline()
        pipe.incr(self._prefix + key)
        pipe.expire(self._prefix + key, window, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def clear(self, key: str) -> None:
        """Forget ``key``."""
        self._redis.delete(self._prefix + key)


def init_login_throttle(app: Flask) -> None:
    """Attach the counter (Redis when the message queue is configured)."""
    url = app.config.get("MESSAGE_QUEUE_URL")
    counter: FailureCounter = (
        RedisFailureCounter(url, app.config["MESSAGE_QUEUE_CHANNEL"] + ":login:")
        if url
        else MemoryFailureCounter()
    )
    app.extensions["switchboard.login_throttle"] = counter


def _key(email: str, address: str | None) -> str:
    raw = f"{email.strip().lower()}|{address or '-'}"
    return hashlib.sha256(raw.encode()).hexdigest()


def check_allowed(email: str, address: str | None) -> None:
    """Refuse (429) while this email has too many recent failures from here.

    If the shared counter (Redis) is unreachable, logins are allowed: an outage
    of the queue must not lock every user out.
    """
    counter: FailureCounter = current_app.extensions["switchboard.login_throttle"]
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    try:
        failures = counter.count(_key(email, address))
    except Exception:  # noqa: BLE001 - any Redis error
        logger.warning("login throttle unavailable; allowing the attempt")
        return
    if failures >= limit:
        window = current_app.config["LOGIN_FAILURE_WINDOW"]
        metrics.login_failed("rate_limited")
        raise RateLimited(
            f"too many failed logins; try again within {window} s",
            details={"retry_after": window},
        )


def record_failure(email: str, address: str | None) -> None:
    """Count one failed login."""
    counter: FailureCounter = current_app.extensions["switchboard.login_throttle"]
    try:
        counter.add(_key(email, address), current_app.config["LOGIN_FAILURE_WINDOW"])
    except Exception:  # noqa: BLE001 - any Redis error
        logger.warning("login throttle unavailable; failure not counted")


def record_success(email: str, address: str | None) -> None:
    """A successful login clears the count."""
    counter: FailureCounter = current_app.extensions["switchboard.login_throttle"]
    try:
        counter.clear(_key(email, address))
    except Exception:  # noqa: BLE001 - any Redis error
        logger.warning("login throttle unavailable; count not cleared")
