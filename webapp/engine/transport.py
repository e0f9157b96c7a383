"""The engine.io edge: checks python-engineio leaves out, and closes that never wait.

python-engineio trusts its transports: a websocket frame or polling payload that
is not an engine.io packet escapes as a traceback or is silently ignored, a
malformed long-polling POST can hang, closing a session waits for its client to
read, and nothing says how many bytes a connection has waiting. ``EdgeEngineIO``
adds those checks (the packet and frame rules are in ``packets.py`` and
``websocket.py``), through python-engineio's per-session internals (``Socket``
objects, their queues, the ``_async`` driver table and the
``_bad_request``/``_cors_headers`` responses). Part of the engine seam
(``webapp/engine/``, the only code using library internals); every name is
checked at the pinned versions by tests/unit/test_engine_hooks.py.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

import engineio
from prometheus_client import Counter

from webapp.engine.packets import payload_problem
from webapp.engine.websocket import CheckedWebSocket
from webapp.metrics import MALFORMED_PACKETS, OVERSIZE_MESSAGES

logger = logging.getLogger(__name__)


# Payload types whose length is counted (a Socket.IO packet is text, an attachment
# bytes); checked by exact class, which is cheaper than isinstance on this path.
COUNTED_PAYLOADS = (str, bytes)


@functools.cache
def counting_queue(base: Any) -> Any:
    """``base`` (the async mode's queue class) keeping a running byte count.

    Counting at put/get makes reading the backlog O(1); measuring every queued
    packet on every check would be O(queue) per connection. The count costs
    ~0.3 µs per packet on top of the queue's own ~0.7 µs (eventlet, measured).
    """
    base_put = base.put
    base_get = base.get

    class CountingQueue(base):  # type: ignore[valid-type, misc]
        queued_bytes = 0

        def put(self, item: Any, block: bool = True, timeout: Any = None) -> Any:
            data = getattr(item, "data", None)
            if data.__class__ in COUNTED_PAYLOADS:
                self.queued_bytes += len(data)
            return base_put(self, item, block, timeout)

        def get(self, block: bool = True, timeout: Any = None) -> Any:
            item = base_get(self, block, timeout)
            data = getattr(item, "data", None)
            if data.__class__ in COUNTED_PAYLOADS:
                self.queued_bytes -= len(data)
            return item

    return CountingQueue


class EdgeEngineIO(engineio.Server):  # type: ignore[misc]
    """``engineio.Server`` with checked transports and closes that never block."""

    _async: dict[str, Any]  # python-engineio's drivers for the async mode

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue_class = counting_queue(self._async["queue"])
        driver = self._async.get("websocket")
        if driver is not None:

            def websocket(handler: Any, server: Any) -> Any:
                session = getattr(handler, "__self__", None)  # engine.io's Socket
                return driver(
                    lambda ws: handler(CheckedWebSocket(ws, session, self)), server
                )

            self._async = {**self._async, "websocket": websocket}

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """A send queue that counts its bytes (see ``backlogs``)."""
        return self._queue_class(*args, **kwargs)

    # ----------------------------------------------------------------- sessions
    def is_open(self, sid: str) -> bool:
        """True while session ``sid`` exists and is not closing."""
        session = self.sockets.get(sid)
        return session is not None and not (session.closing or session.closed)

    def backlogs(self) -> dict[str, tuple[int, int]]:
        """Unsent (packets, bytes) of every open session."""
        return {
            sid: (session.queue.qsize(), getattr(session.queue, "queued_bytes", 0))
            for sid, session in list(self.sockets.items())
            if not session.closed
        }

    def disconnect(self, sid: str | None = None) -> None:
        """Close a session (or all) without waiting for the client to read.

        python-engineio waits until the send queue is drained, which never
        happens for a polling client that stopped polling: the caller (a POST
        handler, a background job) would hang with it.
        """
        if sid is None:
            for session_id in list(self.sockets):
                self.disconnect(session_id)
            return
        session = self.sockets.pop(sid, None)
        if session is not None:
            session.close(wait=False, reason=self.reason.SERVER_DISCONNECT)

    def drop(self, sid: str) -> None:
        """Close a session at once, shutting its TCP connection if it has one."""
        session = self.sockets.pop(sid, None)
        if session is None:
            return
        session.close(wait=False, abort=True, reason=self.reason.SERVER_DISCONNECT)
        websocket = getattr(session, "edge_websocket", lambda: None)()
        if websocket is not None:
            websocket.shutdown()

    def reject(
        self, sid: str, reason: str, counter: Counter, abort: bool = False
    ) -> None:
        """Close a session for bad input: one log line per session, then silence.

        ``abort`` skips the engine.io CLOSE packet (for a client that does not
        speak engine.io, the websocket close frame is the only answer).
        """
        session = self.sockets.get(sid)
        if session is None or session.closing or session.closed:
            return
        if getattr(session, "edge_rejected", False):
            return
        session.edge_rejected = True
        logger.warning("closing %s: %s", sid, reason)
        counter.inc()
        self.sockets.pop(sid, None)
        session.close(wait=False, abort=abort, reason=self.reason.SERVER_DISCONNECT)

    # ------------------------------------------------------------ long-polling
    def handle_request(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Check long-polling POSTs before python-engineio reads them."""
        if environ.get("REQUEST_METHOD") != "POST":
            return super().handle_request(environ, start_response)
        sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [""])[0]
        session = self.sockets.get(sid)
        if session is None or not session.connected or session.upgraded:
            return super().handle_request(environ, start_response)  # it refuses
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length > self.max_http_buffer_size:
            self.reject(
                sid, f"a {length}-byte payload (over the limit)", OVERSIZE_MESSAGES
            )
            return self._refuse(environ, start_response)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        problem = "a bad Content-Length" if length < 0 else payload_problem(body)
        if problem is not None:
            self.reject(sid, problem, MALFORMED_PACKETS)
            return self._refuse(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        answers: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            answers.append((status, headers))
            return lambda _data: None

        result = super().handle_request(environ, capture)
        if getattr(session, "edge_rejected", False):
            # A Socket.IO packet in it was malformed: the session is closed.
            return self._refuse(environ, start_response)
        start_response(*answers[0])
        return result

    def _refuse(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        answer = self._bad_request("malformed or over-size packet")
        start_response(
            answer["status"], answer["headers"] + self._cors_headers(environ)
        )
        return [answer["response"]]
