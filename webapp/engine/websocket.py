"""The websocket edge: checked frames, fast unmasking and buffered reads.

``CheckedWebSocket`` wraps the async mode's websocket so that a frame that is not
an engine.io packet, or is over the size limit, closes the connection with one log
line (never a traceback); ``apply_mask`` and ``BufferedReads`` replace eventlet's
byte-at-a-time unmasking and per-frame reads. Part of the engine seam: it reads
engine.io ``Socket`` state and eventlet/simple-websocket internals, every name
checked by tests/unit/test_engine_hooks.py.
"""

from __future__ import annotations

import logging
import socket
import weakref
from typing import Any

from prometheus_client import Counter

from webapp.engine.packets import packet_problem
from webapp.metrics import MALFORMED_PACKETS, OVERSIZE_MESSAGES

logger = logging.getLogger(__name__)


# WebSocket close status for a message over the size limit (RFC 6455).
CLOSE_TOO_BIG = 1009


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

    def __init__(self, ws: Any, session: Any, server: Any) -> None:
        # ``server``: the EdgeEngineIO (transport.py), which closes rejected sessions.
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
