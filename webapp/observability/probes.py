"""Database and message-queue health for /metrics, probed in the background.

Every ``DEPENDENCY_PROBE_INTERVAL`` seconds a serving process runs ``SELECT 1``
and (with a message queue) a Redis ``PING``, and keeps the outcome and latency.
A scrape only reads what was kept, so /metrics answers at once even while a
dependency hangs: a probe still running after ``STALL_AFTER`` seconds is
reported down, with its latency so far.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from webapp import metrics

logger = logging.getLogger(__name__)

# A probe that has not answered after this long counts as down.
STALL_AFTER = 5.0


@dataclass
class ProbeState:
    """The last outcome of one dependency's probe."""

    up: bool = False
    latency: float = 0.0
    finished_at: float = 0.0  # wall clock of the last answer (0: none yet)
    running_since: float | None = None  # perf_counter while a probe runs


class DependencyProbes:
    """Probe results of this process, exported as gauges at scrape time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.states: dict[str, ProbeState] = {}

    def run(self, name: str, probe: Callable[[], object]) -> None:
        """Run one probe and keep its outcome; never raises."""
        started = time.perf_counter()
        with self._lock:
            state = self.states.setdefault(name, ProbeState())
            state.running_since = started
        try:
            probe()
            up = True
        except Exception as exc:  # any driver or client error means "down"
            logger.debug("%s probe failed: %s", name, exc)
            up = False
        with self._lock:
            state.up = up
            state.latency = time.perf_counter() - started
            state.finished_at = time.time()
            state.running_since = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield up/down, latency and last-answer time per dependency."""
        up = GaugeMetricFamily(
            "switchboard_dependency_up",
            "1 if the dependency answered its last probe (and is not stuck in one)",
            labels=["dependency"],
        )
        latency = GaugeMetricFamily(
            "switchboard_dependency_latency_seconds",
            "Duration of the last probe (of the running one, if it is stuck)",
            labels=["dependency"],
        )
        answered = GaugeMetricFamily(
            "switchboard_dependency_last_probe_timestamp_seconds",
            "Unix time of the dependency's last answered probe",
            labels=["dependency"],
        )
        now = time.perf_counter()
        with self._lock:
            for name, state in sorted(self.states.items()):
                running = (
                    now - state.running_since if state.running_since is not None else 0
                )
                stuck = running > STALL_AFTER
                up.add_metric([name], 0 if stuck or not state.up else 1)
                seconds = running if stuck else state.latency
                latency.add_metric([name], seconds)
                answered.add_metric([name], state.finished_at)
        yield up
        yield latency
        yield answered


PROBES = DependencyProbes()
metrics.REGISTRY.register(PROBES)


def start_dependency_probe(app: Flask) -> None:
    """Probe the database (and the queue) now and then every interval."""
    from webapp.extensions import db, get_socketio
    from webapp.services.cluster.message_queue import redis_client

    sio = get_socketio(app)
    interval = app.config["DEPENDENCY_PROBE_INTERVAL"]
    queue_url = app.config.get("MESSAGE_QUEUE_URL")
    queue = redis_client(queue_url) if queue_url else None

    def database() -> None:
        with app.app_context():
            try:
                db.session.execute(text("SELECT 1"))
            finally:
                db.session.remove()

    def loop() -> None:
        while True:
            PROBES.run("database", database)
            if queue is not None:
                PROBES.run("message_queue", queue.ping)
            sio.sleep(interval)

    sio.start_background_task(loop)
