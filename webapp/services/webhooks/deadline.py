"""A wall-clock deadline for one attempt: a watchdog that shuts its sockets.

urllib3's timeouts are per socket operation, so a receiver that drips a byte a
second never trips them and would hold an attempt past the webhook's lease
(another process would then send the same delivery). The watchdog is a
``threading.Timer``: under eventlet or gevent (monkey-patched) it is a green
timer, in threading mode a thread; either way ``shutdown()`` wakes the read that
waits on the socket, which then fails at once. Works the same in every mode.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection


class Watchdog:
    """Shuts every socket it watches once ``seconds`` have passed."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket | None) -> None:
        """Watch a freshly connected socket (shut at once if already late)."""
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            late = self.fired
        if late:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing left to wake


class WatchedHTTPConnection(HTTPConnection):
    """An urllib3 connection that hands its socket to a watchdog on connect."""

    def __init__(self, *args: Any, watchdog: Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watchdog = watchdog

    def connect(self) -> None:
        """Connect, then put the socket under the watchdog."""
        super().connect()
        self.watchdog.watch(self.sock)


class WatchedHTTPSConnection(HTTPSConnection):
    """The TLS twin of :class:`WatchedHTTPConnection`."""

    def __init__(self, *args: Any, watchdog: Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watchdog = watchdog

    def connect(self) -> None:
        """Connect (and handshake), then put the socket under the watchdog."""
        super().connect()
        self.watchdog.watch(self.sock)
