"""Prometheus metrics exposed at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

REGISTRY = CollectorRegistry(auto_describe=True)

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
    "Connections closed after sending an undecodable Socket.IO packet",
    registry=REGISTRY,
)
FANOUT_DIRECT_WRITES = Counter(
    "switchboard_fanout_direct_writes_total",
    "Emitted packets written straight into an idle websocket",
    registry=REGISTRY,
)
FANOUT_QUEUED_WRITES = Counter(
    "switchboard_fanout_queued_writes_total",
    "Emitted packets handed to a connection's engine.io queue",
    registry=REGISTRY,
)
FANOUT_PARTIAL_WRITES = Counter(
    "switchboard_fanout_partial_writes_total",
    "Direct websocket writes the kernel took only part of (the rest was queued)",
    registry=REGISTRY,
)
