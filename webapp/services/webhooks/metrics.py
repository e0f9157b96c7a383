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
# Every outcome exported from the start (at 0): a rate() or an alert on an outcome
# that has not happened yet then reads 0, not "no data".
for _outcome in ("delivered", "retrying", "failed"):
    ATTEMPTS.labels(_outcome)

QUEUE_DEPTH = Gauge(
    "switchboard_webhook_pending",
    "Webhook deliveries waiting to be sent to enabled webhooks (cluster-wide)",
    registry=REGISTRY,
)
