"""The periodic ``analytics_update``: one background task per process.

The task runs only while this process has dashboard connections. Every
``ANALYTICS_INTERVAL`` seconds it sends one fresh snapshot to each channel somebody
watches (one emit per room, not per client) and ends when the last watcher leaves;
the next watcher starts it again. It uses the Socket.IO server's own
``start_background_task``/``sleep``, so it works under eventlet, gevent and threads.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask

from webapp.extensions import get_socketio
from webapp.services.dashboard.analytics import AnalyticsChannel, publish_snapshot

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0


def analytics_interval(app: Flask) -> float:
    """Seconds between snapshots: ``ANALYTICS_INTERVAL`` (default 30 s)."""
    return max(0.05, float(app.config.get("ANALYTICS_INTERVAL") or DEFAULT_INTERVAL))


class AnalyticsTicker:
    """Who watches which channel in this process, and the task that feeds them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._watchers: dict[str, AnalyticsChannel] = {}
        self._running = False
        self._redis: Any = None

    def watch(self, sid: str, channel: AnalyticsChannel) -> None:
        """Record a dashboard connection; start the task if it is not running."""
        with self._lock:
            self._watchers[sid] = channel
            start = not self._running
            self._running = True
        if start:
            get_socketio(self.app).start_background_task(self._run)

    def unwatch(self, sid: str) -> AnalyticsChannel | None:
        """Forget a connection; the task stops after the last one."""
        with self._lock:
            return self._watchers.pop(sid, None)

    def channel_of(self, sid: str) -> AnalyticsChannel | None:
        """The channel one connection watches."""
        with self._lock:
            return self._watchers.get(sid)

    def channels(self) -> set[AnalyticsChannel]:
        """Channels with at least one watcher."""
        with self._lock:
            return set(self._watchers.values())

    def tick(self, channels: set[AnalyticsChannel]) -> None:
        """Send one fresh snapshot to each channel's room."""
        with self.app.app_context():
            for channel in sorted(channels):
                try:
                    if not self._claim(channel):
                        continue  # another process sends this one this interval
                    publish_snapshot(channel)
                except Exception:
                    # A failing channel (database down) must not stop the others.
                    logger.exception("analytics snapshot for %s failed", channel)

    def _claim(self, channel: AnalyticsChannel) -> bool:
        """With several processes, only one sends a channel's snapshot per interval.

        Every process watching the channel races for a Redis key named after the
        interval number; the winner sends. Alone (no queue), always True.
        """
        url = self.app.config.get("MESSAGE_QUEUE_URL")
        if not url:
            return True
        from webapp.services.cluster.message_queue import redis_client

        if self._redis is None:
            self._redis = redis_client(url)
        interval = analytics_interval(self.app)
        slot = int(time.time() // interval)
        key = (
            f"{self.app.config['MESSAGE_QUEUE_CHANNEL']}:analytics:"
            f"{channel.kind}:{channel.tenant_id}:{slot}"
        )
        try:
            ttl = max(1, int(interval * 2))
            return bool(self._redis.set(key, "1", nx=True, ex=ttl))
        except Exception:  # Redis down: better a duplicate than no snapshot
            return True

    def _run(self) -> None:
        sio = get_socketio(self.app)
        interval = analytics_interval(self.app)
        while True:
            sio.sleep(interval)
            with self._lock:
                channels = set(self._watchers.values())
                if not channels:
                    self._running = False
                    return
            self.tick(channels)
