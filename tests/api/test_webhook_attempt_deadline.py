"""An attempt has a wall-clock deadline, whatever the receiver does.

A receiver that drips its answer a byte a second never trips a per-socket-read
timeout; without the deadline the attempt would outlive the webhook's lease (and
another process would send the same delivery). In each async mode, the attempt
must end as a timeout within 2 × WEBHOOK_TIMEOUT and close the connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.webhooks import create_webhook, start_server
from tests.support.world import build_world
from webapp.services.webhooks.poster import post
from webapp.services.webhooks.settings import WebhookSettings

TIMEOUT = 2.0  # WEBHOOK_TIMEOUT of tests/support/webhooks.py
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class DripReceiver:
    """Reads a request, then answers one byte a second (about a minute in all)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests = 0
        self.closed_after: list[float] = []  # seconds from request to the close
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        """Where to point the webhook."""
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            self.requests += 1
            started = time.monotonic()
            for i in range(len(ANSWER)):
                try:
                    conn.sendall(ANSWER[i : i + 1])
                except OSError:
                    break  # the sender closed it
                conn.settimeout(1.0)
                try:
                    if conn.recv(1) == b"":  # closed by the sender
                        break
                except TimeoutError:
                    pass  # still open: the next byte, a second later
            self.closed_after.append(time.monotonic() - started)
            self.done.set()

    def stop(self) -> None:
        """Stop accepting."""
        self.listener.close()


@pytest.fixture
def drip() -> Iterator[DripReceiver]:
    """A dripping receiver, stopped after the test."""
    receiver = DripReceiver()
    yield receiver
    receiver.stop()


# A threading-mode server starts no background sender (wsgi.py runs the jobs only
# under eventlet or gevent): the threading case is the poster called in plain
# threads, below.
@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_dripping_receiver_times_out_within_the_deadline(
    mode: str, drip: DripReceiver, tmp_path: Any
) -> None:
    server = start_server(
        str(tmp_path), {"SOCKETIO_ASYNC_MODE": mode, "WEBHOOK_MAX_ATTEMPTS": "1"}
    )
    try:
        world = build_world(server.url, server.seed)
        api = world.api(world.msp_user)
        tenant = world.tenant_a["id"]
        hook = create_webhook(api, tenant, drip.url, ["ping"])
        path = f"/api/tenants/{tenant}/webhooks/{hook['id']}"
        assert api.post(path + "/test").status_code == 202
        # The drip would take a minute; the sender must give up long before.
        assert drip.done.wait(20), (
            f"the sender kept the connection open ({drip.requests})"
        )
        assert drip.closed_after[0] < 2 * TIMEOUT + 2, drip.closed_after
        deadline = time.monotonic() + 10
        while (got := api.get(path + "/deliveries").json()["deliveries"][0])[
            "state"
        ] != "failed":
            assert time.monotonic() < deadline, got
            time.sleep(0.1)
        (attempt,) = got["attempt_log"]
        assert attempt["status"] is None and "timed out" in attempt["error"], attempt
        assert attempt["duration_ms"] < (2 * TIMEOUT + 1) * 1000, attempt
        assert drip.requests == 1
    finally:
        server.process.stop()


def test_in_plain_threads_the_attempt_also_ends_at_the_deadline(
    drip: DripReceiver,
) -> None:
    settings = WebhookSettings(
        timeout=TIMEOUT,
        max_attempts=1,
        backoff_base=1,
        disable_after=60,
        allow_http=True,
        allow_private=True,
        production=False,
        poll_interval=1,
        lease=3,
        concurrency=1,
        retention=60,
    )
    outcome = post(drip.url, ["s" * 32], "evt_1", b"{}", 1, settings)
    assert outcome.status is None and outcome.error is not None, outcome
    assert "timed out" in outcome.error, outcome
    assert outcome.duration < 2 * TIMEOUT + 1, outcome
    assert drip.done.wait(5) and drip.requests == 1
