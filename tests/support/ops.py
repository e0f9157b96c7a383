"""Helpers for the operations tests: scraping /metrics, the Admin UI's namespace."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import socketio
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

ADMIN_USERNAME = "ops"
ADMIN_PASSWORD = "correct-horse-staple-42"
ADMIN_UI_ENV = {
    "ADMIN_UI": "1",
    "ADMIN_UI_USERNAME": ADMIN_USERNAME,
    "ADMIN_UI_PASSWORD": ADMIN_PASSWORD,
}


def scrape_text(url: str) -> str:
    """GET /metrics as Prometheus (or curl) would."""
    response = requests.get(url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


def scrape(url: str) -> dict[str, Metric]:
    """/metrics parsed by prometheus_client's own parser, by family name."""
    return {
        family.name: family
        for family in text_string_to_metric_families(scrape_text(url))
    }


def value(families: dict[str, Metric], sample: str, **labels: str) -> float | None:
    """The value of one sample (name plus exactly these labels), or None."""
    family_name = sample
    for suffix in ("_total", "_count", "_sum", "_bucket"):
        if sample.endswith(suffix) and sample[: -len(suffix)] in families:
            family_name = sample[: -len(suffix)]
    family = families.get(family_name)
    if family is None:
        return None
    for found in family.samples:
        if found.name == sample and found.labels == labels:
            return float(found.value)
    return None


def wait_for_value(
    url: str,
    sample: str,
    predicate: Callable[[float | None], bool],
    timeout: float = 10.0,
    **labels: str,
) -> float | None:
    """Scrape until ``predicate(value)`` holds; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        found = value(scrape(url), sample, **labels)
        if predicate(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


class AdminClient:
    """A python-socketio client on ``/admin``: what the Admin UI receives."""

    def __init__(self) -> None:
        self.client = socketio.Client(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.connect_errors: list[Any] = []
        self._cond = threading.Condition()

        @self.client.on("*", namespace="/admin")
        def _any(event: str, *args: Any) -> None:
            with self._cond:
                self.events.append((event, args))
                self._cond.notify_all()

        @self.client.on("connect_error", namespace="/admin")
        def _error(data: Any) -> None:
            with self._cond:
                self.connect_errors.append(data)
                self._cond.notify_all()

    def connect(self, url: str, auth: Any) -> AdminClient:
        """Connect to ``/admin`` (raises ``socketio.exceptions.ConnectionError``)."""
        self.client.connect(
            url,
            namespaces=["/admin"],
            auth=auth,
            transports=["websocket"],
            wait_timeout=10,
        )
        return self

    def wait_for(
        self,
        event: str,
        predicate: Callable[[tuple[Any, ...]], bool] = lambda _args: True,
        timeout: float = 10.0,
    ) -> tuple[Any, ...]:
        """Block until an ``event`` whose arguments match arrives; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for name, args in self.events:
                    if name == event and predicate(args):
                        return args
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({name for name, _ in self.events})
                    raise AssertionError(f"no matching {event!r}; got {seen}")
                self._cond.wait(remaining)

    def disconnect(self) -> None:
        """Disconnect if connected."""
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - already gone is fine
            pass


def admin_refusal(url: str, auth: Any) -> Any:
    """Try to connect to ``/admin``; return the refusal (fail if it connects)."""
    admin = AdminClient()
    try:
        admin.connect(url, auth)
    except socketio.exceptions.ConnectionError as exc:
        return admin.connect_errors[0] if admin.connect_errors else str(exc)
    finally:
        admin.disconnect()
    raise AssertionError("the /admin connection was accepted")
