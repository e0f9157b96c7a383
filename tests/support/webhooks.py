"""Webhook test support: a real HTTP receiver on 127.0.0.1 and small helpers.

The receiver verifies every request's signature with the webhook's secret (the
snippet of docs/webhooks.md, in Python) and answers from a script of statuses.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.server import LiveServer, ServerProcess, base_env, prepare_database
from tests.support.sockets import SocketRecorder
from tests.support.world import Api
from webapp.services.webhooks.signer import verify

# Quick retries and polls, so a test sees several attempts in about a second.
WEBHOOK_ENV = {
    "WEBHOOK_ALLOW_PRIVATE": "1",
    "WEBHOOK_POLL_INTERVAL": "0.1",
    "WEBHOOK_BACKOFF_BASE": "0.5",
    "WEBHOOK_TIMEOUT": "2",
    "WEBHOOK_LEASE": "3",
}


@dataclass
class Received:
    """One request the receiver got, and what it answered."""

    at: float
    headers: dict[str, str]
    body: bytes
    status: int
    signed: bool

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        return dict(json.loads(self.body))

    @property
    def id(self) -> str:
        """The payload id (also the ``Switchboard-Webhook-Id`` header)."""
        return str(self.payload["id"])


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 recording webhook POSTs."""

    secret: str = ""
    script: list[int] = field(default_factory=list)  # statuses to answer first
    default_status: int = 200
    delays: list[float] = field(default_factory=list)  # seconds before answering
    retry_after: str | None = None  # a Retry-After header on every 429 and 503
    received: list[Received] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        """Listen on a free port in a daemon thread."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.cond:
                    delay = receiver.delays.pop(0) if receiver.delays else 0.0
                time.sleep(delay)  # a slow receiver (this handler's thread only)
                header = self.headers.get("Switchboard-Signature", "")
                with receiver.cond:
                    status = (
                        receiver.script.pop(0)
                        if receiver.script
                        else receiver.default_status
                    )
                    signed = bool(receiver.secret) and verify(
                        receiver.secret, header, body
                    )
                    receiver.received.append(
                        Received(
                            time.monotonic(), dict(self.headers), body, status, signed
                        )
                    )
                    receiver.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                if receiver.retry_after and status in (429, 503):
                    self.send_header("Retry-After", receiver.retry_after)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        """Where to point a webhook."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(
        self,
        predicate: Callable[[list[Received]], bool],
        timeout: float = 15,
    ) -> list[Received]:
        """Block until ``predicate(received)``; return a copy of what arrived."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    kinds = [r.payload.get("type") for r in self.received]
                    raise AssertionError(f"timed out; received {kinds}")
                self.cond.wait(remaining)
            return list(self.received)

    def of(self, *kinds: str) -> list[Received]:
        """Requests of the given payload types (all if none given)."""
        with self.cond:
            return [r for r in self.received if not kinds or r.payload["type"] in kinds]


def create_webhook(
    api: Api, tenant_id: int, url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    """POST a webhook and return the 201 body (with its secret)."""
    response = api.post(
        f"/api/tenants/{tenant_id}/webhooks",
        json={"url": url, "events": events, **extra},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def start_server(directory: str, extra: dict[str, str] | None = None) -> LiveServer:
    """A server on a fresh SQLite database with the quick webhook settings."""
    env = base_env(
        f"sqlite:///{directory}/switchboard.db",
        {**WEBHOOK_ENV, "TEST_LOG_DIR": directory, **(extra or {})},
    )
    seed = prepare_database(env)
    return LiveServer(ServerProcess(env).start(), seed, env)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on 127.0.0.1, stopped after the test (a fixture)."""
    started = Receiver().start()
    yield started
    started.stop()


def call_ok(recorder: SocketRecorder, event: str, session_id: int) -> None:
    """``join_session``/``leave_session`` and check the ack is positive."""
    ack = recorder.call(event, {"session_id": session_id})
    assert ack["ok"] is True, ack
