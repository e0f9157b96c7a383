"""HTTP request counts and latency by route, recorded by two Flask hooks."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, g, request

from webapp import metrics

# Anything else a client sends as a method is one label value, not a new series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Requests no URL rule matched (404s of random paths): one series, not one per path.
UNMATCHED = "unmatched"
# (method, route, status) -> (counter child, histogram child): ``labels()`` takes a
# lock and builds its key on every call, half of the hooks' cost. Bounded by the
# routes, methods and statuses the app has.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def init_http_metrics(app: Flask) -> None:
    """Time every Flask request from its first hook to its response."""
    # First of all before-request hooks: a request the input guard refuses is
    # timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _mark_received)
    app.after_request(_record)


def _mark_received() -> None:
    g.switchboard_received = time.perf_counter()


def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        children = (
            metrics.HTTP_REQUESTS.labels(method, route, str(status)),
            metrics.HTTP_DURATION.labels(method, route),
        )
        _children[key] = children
    return children


def _record(response: Response) -> Response:
    started = g.get("switchboard_received")
    method = request.method
    if method not in KNOWN_METHODS:
        method = "other"
    rule = request.url_rule
    count, duration = _series(
        method, rule.rule if rule is not None else UNMATCHED, response.status_code
    )
    count.inc()
    if started is not None:
        duration.observe(time.perf_counter() - started)
    return response
