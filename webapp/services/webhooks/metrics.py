"""Webhook metrics on the app's /metrics registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from webapp.metrics import REGISTRY

ATTEMPTS = Counter(
    "switchboard_webhook_attempts_total",
    "Webhook delivery attempts, by outcome (delivered, retrying, failed)",
    ["outcome"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "switchboard_webhook_attempt_seconds",
    "Duration of one webhook delivery attempt",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "switchboard_webhook_pending",
    "Webhook deliveries waiting to be sent (the whole cluster's outbox)",
    registry=REGISTRY,
)
