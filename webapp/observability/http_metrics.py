"""HTTP request counts and latency by route, recorded by two Flask hooks."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from webapp import metrics

# Anything else a client sends as a method is one label value, not a new series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Requests no URL rule matched (404s of random paths): one series, not one per path.
UNMATCHED = "unmatched"


def init_http_metrics(app: Flask) -> None:
    """Time every Flask request from its first hook to its response."""
    # First of all before-request hooks: a request the input guard refuses is
    # timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _mark_received)
    app.after_request(_record)


def _mark_received() -> None:
    g.switchboard_received = time.perf_counter()


def _record(response: Response) -> Response:
    started = g.get("switchboard_received")
    method = request.method if request.method in KNOWN_METHODS else "other"
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    metrics.HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
    if started is not None:
        elapsed = time.perf_counter() - started
        metrics.HTTP_DURATION.labels(method, route).observe(elapsed)
    return response
