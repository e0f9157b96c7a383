"""Prometheus metrics exposed at /metrics (every one is listed in docs/operations.md).

Each process exports its own: scrape every process, not the load balancer.
"""

from __future__ import annotations

import os
import socket
import time

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

# A counter's ``_created`` twin doubles the series and no dashboard or alert reads it.
disable_created_metrics()

REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)  # CPU, memory, open fds, GC of this process

EVENTS_PUBLISHED = Counter(
    "switchboard_events_published_total",
    "Events emitted through the publisher",
    ["namespace", "type"],
    registry=REGISTRY,
)
CONNECTIONS = Gauge(
    "switchboard_connections",
    "Live Socket.IO namespace connections in this process",
    ["namespace"],
    registry=REGISTRY,
)
CONNECTS_REFUSED = Counter(
    "switchboard_connects_refused_total",
    "Socket.IO connections refused, by code",
    ["code"],
    registry=REGISTRY,
)
CLIENT_EVENTS = Counter(
    "switchboard_client_events_total",
    "Client-to-server socket events handled, by outcome",
    ["namespace", "event", "outcome"],
    registry=REGISTRY,
)
EVENTS_REPLAYED = Counter(
    "switchboard_events_replayed_total",
    "Persisted events replayed to reconnecting clients",
    ["namespace"],
    registry=REGISTRY,
)
SLOW_CONSUMERS_CLOSED = Counter(
    "switchboard_slow_consumers_closed_total",
    "Connections closed because their outgoing queue kept growing",
    registry=REGISTRY,
)
MALFORMED_PACKETS = Counter(
    "switchboard_malformed_packets_total",
    "Connections closed after sending an undecodable engine.io or Socket.IO packet",
    registry=REGISTRY,
)
OVERSIZE_MESSAGES = Counter(
    "switchboard_oversize_messages_total",
    "Connections closed after sending a message over MAX_PAYLOAD_BYTES",
    registry=REGISTRY,
)
PUBLISH_GROUP_EVENTS = Histogram(
    "switchboard_publish_group_events",
    "Events persisted per event-log commit (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    registry=REGISTRY,
)

from collections.abc import Iterator  # noqa: E402 - the fan-out block is appended

from prometheus_client.core import (  # noqa: E402
    CounterMetricFamily,
    GaugeMetricFamily,
)


class FanoutWrites:
    """The fan-out path's write counts, as plain ints.

    They are bumped once per recipient per event, where a ``Counter.inc`` (a
    lock round trip) cost ~6% of the fan-out's CPU; read at scrape time.
    """

    def __init__(self) -> None:
        self.direct = 0  # written straight into an idle websocket
        self.queued = 0  # handed to the connection's engine.io queue
        self.partial = 0  # direct writes the kernel took only part of

    def collect(self) -> Iterator[CounterMetricFamily]:
        """Yield the three counters."""
        yield CounterMetricFamily(
            "switchboard_fanout_direct_writes",
            "Emitted packets written straight into an idle websocket",
            value=self.direct,
        )
        yield CounterMetricFamily(
            "switchboard_fanout_queued_writes",
            "Emitted packets handed to a connection's engine.io queue",
            value=self.queued,
        )
        yield CounterMetricFamily(
            "switchboard_fanout_partial_writes",
            "Direct websocket writes the kernel took only part of (rest queued)",
            value=self.partial,
        )


FANOUT_WRITES = FanoutWrites()
REGISTRY.register(FANOUT_WRITES)


# ---------------------------------------------------------------- operations
# Seconds; the publish buckets start at a millisecond (a group commit on SQLite),
# the HTTP ones go to 10 s (a batch publish waiting out a slow database).
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
)
REPLAY_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

HTTP_REQUESTS = Counter(
    "switchboard_http_requests_total",
    "HTTP requests answered by Flask, by route (the URL rule, not the path) and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "switchboard_http_request_duration_seconds",
    "Time from a request reaching Flask to its response, by route",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PUBLISH_LATENCY = Histogram(
    "switchboard_publish_latency_seconds",
    "Time from a publish request's arrival to the emit of its event",
    ["namespace"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
REPLAY_DURATION = Histogram(
    "switchboard_replay_duration_seconds",
    "Time to replay missed events to one connection (connect or join_session)",
    ["namespace"],
    buckets=REPLAY_BUCKETS,
    registry=REGISTRY,
)
EVENTS_DROPPED = Counter(
    "switchboard_events_dropped_total",
    "Events not delivered live: emit_failed (persisted ones reach clients on "
    "replay) or duplicate (a repeated queue copy, dropped by id)",
    ["namespace", "reason"],
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "switchboard_login_failures_total",
    "Failed logins, by endpoint (api, admin_ui) and reason",
    ["endpoint", "reason"],
    registry=REGISTRY,
)


def received_at() -> float:
    """When the current request arrived (``perf_counter``); now outside a request."""
    from flask import g, has_request_context

    if has_request_context():
        started = g.get("switchboard_received")
        if started is not None:
            return float(started)
    return time.perf_counter()


_publish_latency: dict[str, Histogram] = {}  # per namespace: no labels() per event


def observe_publish(namespace: str, received: float) -> None:
    """Record one emitted event's publish latency."""
    child = _publish_latency.get(namespace)
    if child is None:
        child = _publish_latency.setdefault(
            namespace, PUBLISH_LATENCY.labels(namespace)
        )
    child.observe(time.perf_counter() - received)


def replayed(namespace: str, sent: int, started: float) -> None:
    """Record a finished replay: events sent and how long it took."""
    EVENTS_REPLAYED.labels(namespace).inc(sent)
    REPLAY_DURATION.labels(namespace).observe(time.perf_counter() - started)


def dropped(namespace: str | None, reason: str) -> None:
    """Count one event that was not delivered live."""
    EVENTS_DROPPED.labels(namespace or "/", reason).inc()


def login_failed(reason: str, endpoint: str = "api") -> None:
    """Count one failed login."""
    LOGIN_FAILURES.labels(endpoint, reason).inc()


LOGIN_FAILURE_REASONS = {
    "api": ("invalid_credentials", "user_deactivated", "rate_limited"),
    "admin_ui": ("invalid_credentials",),
}
DROP_REASONS = ("emit_failed", "duplicate")


def initialise_series(namespaces: list[str]) -> None:
    """Export the known label sets at 0, so rates and alerts work from the start."""
    for endpoint, reasons in LOGIN_FAILURE_REASONS.items():
        for reason in reasons:
            LOGIN_FAILURES.labels(endpoint, reason)
    for namespace in namespaces:
        CONNECTIONS.labels(namespace)
        EVENTS_REPLAYED.labels(namespace)
        for reason in DROP_REASONS:
            EVENTS_DROPPED.labels(namespace, reason)


def process_id() -> str:
    """This process's name in metrics and in the Admin UI: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class ProcessInfo:
    """``switchboard_process_info``: which process these series come from."""

    def __init__(self) -> None:
        self.async_mode = "unknown"  # set when the Socket.IO server is built

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the info gauge (read at scrape time: a fork changes the pid)."""
        family = GaugeMetricFamily(
            "switchboard_process_info",
            "Always 1; labels name the process (host:pid) and its async mode",
            labels=["process", "hostname", "pid", "async_mode"],
        )
        family.add_metric(
            [process_id(), socket.gethostname(), str(os.getpid()), self.async_mode],
            1,
        )
        yield family


PROCESS_INFO = ProcessInfo()
REGISTRY.register(PROCESS_INFO)
