"""eventlet's HTTP protocol without per-connection state a websocket never uses.

eventlet's ``HttpProtocol`` gives every connection a 16 KiB write buffer and
keeps the request's parsed headers until the connection ends. A websocket is one
request that lasts the connection's lifetime and writes to the socket directly:
the buffer is never written and the headers are never read again. Here the write
buffer is allocated on the first write (REST responses) and only the header
eventlet reads after the request was parsed (``Connection``) is kept.
"""

from __future__ import annotations

import io
from typing import Any

# Request headers eventlet's server reads after building the environ: the
# response's keep-alive decision, and the access log (off here, kept anyway).
KEPT_HEADERS = ("connection", "x-forwarded-for")


class LazyWriter:
    """A socket's buffered writer whose buffer is allocated on the first write."""

    __slots__ = ("_raw", "_size", "_file")

    def __init__(self, raw: Any, size: int) -> None:
        self._raw = raw  # the unbuffered socket file
        self._size = size
        self._file: io.BufferedWriter | None = None

    def _open(self) -> io.BufferedWriter:
        if self._file is None:
            self._file = io.BufferedWriter(self._raw, self._size)
        return self._file

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)

    @property
    def closed(self) -> bool:
        """True once closed (without allocating the buffer)."""
        return bool(self._raw.closed if self._file is None else self._file.closed)

    def flush(self) -> None:
        """Flush the buffer, if there is one."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Close the file (and the buffer, if there is one)."""
        if self._file is not None:
            self._file.close()
        else:
            self._raw.close()


class KeptHeaders(dict[str, str]):
    """The few request headers kept after parsing, looked up case-insensitively."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        """The header's value, or ``default``."""
        return super().get(name.lower(), default)


def lean_http_protocol() -> type:
    """An ``eventlet.wsgi.HttpProtocol`` subclass (imports eventlet: call it there)."""
    from eventlet import wsgi

    stock: Any = wsgi.HttpProtocol  # untyped: its attributes are what it assigns

    class LeanHttpProtocol(stock):
        """``HttpProtocol`` with a lazy write buffer and no parsed headers kept."""

        wbufsize: int
        wfile: Any
        headers: Any

        def setup(self) -> None:
            size = self.wbufsize
            self.wbufsize = 0  # an unbuffered socket file; buffered on first write
            try:
                super().setup()
            finally:
                del self.wbufsize
            self.wfile = LazyWriter(self.wfile, size)

        def get_environ(self) -> dict[str, Any]:
            environ: dict[str, Any] = super().get_environ()
            headers = self.headers
            self.headers = KeptHeaders(
                (name, headers[name]) for name in KEPT_HEADERS if name in headers
            )
            return environ

    return LeanHttpProtocol
