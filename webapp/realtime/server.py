"""Building the Socket.IO server from the app's configuration."""

from __future__ import annotations

import sys
from typing import Any

import socketio
from flask import Flask

from webapp.realtime.gate import GatedManager, GatedRedisManager


def effective_async_mode(requested: str) -> str:
    """The async mode to use: eventlet/gevent only once ``wsgi.py`` has patched.

    The CLI, unit tests and any un-patched import fall back to ``threading``, so
    nothing outside the server start-up depends on eventlet.
    """
    if requested == "eventlet":
        patcher = sys.modules.get("eventlet.patcher")
        if patcher is not None and patcher.is_monkey_patched("socket"):
            return "eventlet"
        return "threading"
    if requested == "gevent":
        monkey = sys.modules.get("gevent.monkey")
        if monkey is not None and monkey.is_module_patched("socket"):
            return "gevent"
        return "threading"
    return requested


def client_manager(app: Flask, write_only: bool = False) -> socketio.Manager:
    """A Redis manager when ``MESSAGE_QUEUE_URL`` is set; in-memory otherwise.

    Both pass deliveries through the replay gate (webapp/realtime/gate.py).
    """
    url = app.config.get("MESSAGE_QUEUE_URL")
    if not url:
        return GatedManager()
    return GatedRedisManager(
        url, channel=app.config["MESSAGE_QUEUE_CHANNEL"], write_only=write_only
    )


def create_socketio_server(app: Flask) -> socketio.Server:
    """A ``socketio.Server`` configured from ``app.config``."""
    origins: Any = app.config["CORS_ALLOWED_ORIGINS"]
    if origins == ["*"]:
        origins = "*"
    return socketio.Server(
        async_mode=effective_async_mode(app.config["SOCKETIO_ASYNC_MODE"]),
        client_manager=client_manager(app),
        cors_allowed_origins=origins,
        ping_interval=app.config["PING_INTERVAL"],
        ping_timeout=app.config["PING_TIMEOUT"],
        max_http_buffer_size=app.config["MAX_PAYLOAD_BYTES"],
        logger=False,
        engineio_logger=False,
    )


class StripWebSocketCompression:
    """WSGI middleware that hides ``Sec-WebSocket-Extensions`` from the server.

    eventlet negotiates permessage-deflate whenever the header is present and
    python-engineio has no switch for it; removing the header turns it off.
    """

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Drop the extension offer, then pass the request on."""
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)


def mount(app: Flask, sio: socketio.Server) -> None:
    """Serve Socket.IO and Flask from the same WSGI callable (``app``)."""
    wsgi: Any = socketio.WSGIApp(sio, app.wsgi_app)
    if not app.config["WEBSOCKET_COMPRESSION"]:
        wsgi = StripWebSocketCompression(wsgi)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
