"""The engine.io edge: checks python-engineio leaves out, and closes that never wait.

python-engineio trusts its transports: a websocket frame or polling payload that
is not an engine.io packet escapes as a traceback or is silently ignored, a
malformed long-polling POST can hang, closing a session waits for its client to
read, and nothing says how many bytes a connection has waiting. ``EdgeEngineIO``
adds those checks, through python-engineio's per-session internals (``Socket``
objects, their queues, the ``_async`` driver table and the
``_bad_request``/``_cors_headers`` responses). Part of the engine seam
(``webapp/engine/``, the only code using library internals); every name is
checked at the pinned versions by tests/unit/test_engine_hooks.py.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import logging
import socket
import weakref
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

import engineio
from prometheus_client import Counter

from webapp.metrics import MALFORMED_PACKETS, OVERSIZE_MESSAGES

logger = logging.getLogger(__name__)

# Engine.IO packets a client may send: CLOSE, PING and PONG ("probe" during an
# upgrade), MESSAGE, UPGRADE. Anything else (OPEN, NOOP, "9", text) is refused.
BARE_CLIENT_PACKETS = frozenset({"1", "2", "3", "5", "2probe", "3probe"})
# A text MESSAGE carries a Socket.IO packet, which starts with its type digit.
# (python-engineio would otherwise json-decode the rest, unbounded in depth.)
SOCKETIO_PACKET_TYPES = frozenset("0123456")
# python-engineio decodes at most this many packets per polling POST.
MAX_PACKETS_PER_POST = 16
# WebSocket close status for a message over the size limit (RFC 6455).
CLOSE_TOO_BIG = 1009


def packet_problem(encoded: str) -> str | None:
    """Why an encoded text packet is not one a client may send, else ``None``."""
    if encoded[:1] == "4":
        if encoded[1:2] and encoded[1] in SOCKETIO_PACKET_TYPES:
            return None
        return "not a Socket.IO packet"
    if encoded in BARE_CLIENT_PACKETS:
        return None
    return f"unknown engine.io packet type {encoded[:1]!r}"


def payload_problem(body: bytes) -> str | None:
    """Why a long-polling POST body is not a valid client payload, else ``None``."""
    if not body:
        return None  # python-engineio reads an empty body as no packets
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "a payload that is not UTF-8"
    encoded_packets = text.split("\x1e")
    if len(encoded_packets) > MAX_PACKETS_PER_POST:
        return f"more than {MAX_PACKETS_PER_POST} packets in one payload"
    for encoded in encoded_packets:
        if encoded.startswith("b"):  # a base64 binary attachment
            try:
                base64.b64decode(encoded[1:], validate=True)
            except binascii.Error:
                return "a binary packet that is not base64"
            continue
        problem = packet_problem(encoded)
        if problem is not None:
            return problem
    return None


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


def apply_mask(
    data: bytes, mask: Any, length: int | None = None, offset: int = 0
) -> bytes:
    """Unmask a websocket payload (RFC 6455 5.3) as one big-integer XOR.

    A drop-in for eventlet's ``RFC6455WebSocket._apply_mask``, which builds a
    ``bytes`` object per payload byte: ~6% of a connect's CPU in a profile.
    """
    if length is None:
        length = len(data)
    key = bytes(mask[(offset + i) % 4] for i in range(4))
    key = (key * (length // 4 + 1))[:length]
    value = int.from_bytes(data[:length], "big") ^ int.from_bytes(key, "big")
    return value.to_bytes(length, "big")


class BufferedReads:
    """A socket whose ``recv`` reads ahead: one system call per burst of frames.

    eventlet's websocket reads each frame in three or four ``recv`` calls (header,
    length, mask, payload), each a syscall and a hub round-trip when the data is
    not there yet. Everything else (send, timeouts, shutdown) goes to the socket.
    """

    READ_AHEAD = 65536

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._data = b""
        self._position = 0  # an offset, so a small read never copies the rest

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes: buffered ones first, else one read of the socket."""
        if self._position >= len(self._data):
            self._data = self._sock.recv(max(size, self.READ_AHEAD))
            self._position = 0
        start = self._position
        chunk = self._data[start : start + size]
        self._position = start + len(chunk)
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class CheckedWebSocket:
    """Wraps a session's websocket so bad frames close it, logged in one line.

    python-engineio decodes frames outside its error handling and keeps reading
    after the session closed; eventlet closes an over-size frame silently.
    """

    def __init__(self, ws: Any, session: Any, server: EdgeEngineIO) -> None:
        self._ws = ws
        self._session = session
        self._server = server
        # Weak, and the close hook does not hold ``self``: no reference cycle
        # keeps a finished connection's objects alive until the next GC pass.
        self._close_status: list[int] = []
        if session is not None:
            session.edge_websocket = weakref.ref(self)
        original_close = ws.close
        close_status = self._close_status

        def close(*args: Any, **kwargs: Any) -> Any:
            # eventlet closes with 1009 when a frame is over max_frame_length.
            close_data = kwargs.get("close_data", args[0] if args else None)
            if isinstance(close_data, tuple) and not close_status:
                close_status.append(close_data[0])
            return original_close(*args, **kwargs)

        ws.close = close
        if hasattr(ws, "_apply_mask"):  # eventlet's websocket
            ws._apply_mask = apply_mask
            ws.socket = BufferedReads(ws.socket)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    def wait(self) -> Any:
        """The next acceptable frame, or the end of the connection."""
        session = self._session
        if session is not None and (session.closing or session.closed):
            return self._end()  # closed by the server: read no more frames
        data = self._ws.wait()
        limit = self._server.max_http_buffer_size
        if data is None:
            if self._close_status[:1] == [CLOSE_TOO_BIG]:
                self._reject(f"a message over {limit} bytes", OVERSIZE_MESSAGES)
            return self._end()
        if len(data) > limit:
            self._reject(
                f"a {len(data)}-byte message (over {limit})", OVERSIZE_MESSAGES
            )
            return self._end()
        if isinstance(data, str):
            problem = packet_problem(data)
            if problem is not None:
                # An engine.io MESSAGE gets engine.io's CLOSE; other text does not.
                self._reject(problem, MALFORMED_PACKETS, abort=data[:1] != "4")
                return self._end()
        return data

    def shutdown(self) -> None:
        """Shut the TCP connection: wakes a writer blocked on a client not reading."""
        raw = getattr(self._ws, "socket", None)  # eventlet
        if raw is None:
            simple = getattr(self._ws, "ws", None)  # simple-websocket (gevent)
            raw = getattr(simple, "sock", None)
        if raw is None:
            return
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass

    def _reject(self, reason: str, counter: Counter, abort: bool = True) -> None:
        if self._session is not None:
            self._server.reject(self._session.sid, reason, counter, abort=abort)
        else:  # pragma: no cover - engine.io always passes a bound handler
            logger.warning("closing a connection: %s", reason)
            counter.inc()

    def _end(self) -> Any:
        # During an upgrade engine.io decodes what it reads without checking for
        # the end; a NOOP fails the upgrade cleanly instead of a TypeError.
        if self._session is not None and self._session.upgrading:
            return "6"
        return None


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
