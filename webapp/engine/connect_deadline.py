"""Deadlines by which an engine.io session must have connected a namespace.

Every new session is watched for ``CONNECT_TIMEOUT`` seconds, and a session whose
namespace was refused for a short grace; a sweeper closes those that are due and
still have no namespace. Watching is O(1) and a sweep is O(sessions due): one
queue per delay, each in deadline order, so no per-session timer is needed.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class ConnectDeadlines:
    """Sessions to check once their deadline has passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[float, deque[tuple[float, str]]] = {}

    def watch(self, sid: str, delay: float, now: float | None = None) -> None:
        """Check ``sid`` again ``delay`` seconds from ``now``."""
        due = (time.monotonic() if now is None else now) + delay
        with self._lock:
            self._queues.setdefault(delay, deque()).append((due, sid))

    def due(self, now: float | None = None) -> list[str]:
        """Take the sessions whose deadline has passed, oldest first."""
        now = time.monotonic() if now is None else now
        found: list[tuple[float, str]] = []
        with self._lock:
            for queue in self._queues.values():
                while queue and queue[0][0] <= now:
                    found.append(queue.popleft())
        return [sid for _due, sid in sorted(found)]

    def __len__(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._queues.values())
