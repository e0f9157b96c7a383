"""Building the Socket.IO server from the app's configuration, and mounting it."""

from __future__ import annotations

import sys
from typing import Any

import socketio
from flask import Flask

from webapp.engine.cluster_manager import ClusterRedisManager
from webapp.engine.delivery import tune_delivery
from webapp.engine.managers import GatedManager
from webapp.engine.server import SwitchboardServer
from webapp.services.delivery.replay import event_log_reader


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


def serves_clients(app: Flask) -> bool:
    """True in the server process; False for the CLI and scripts (write-only)."""
    forced = app.config.get("MESSAGE_QUEUE_WRITE_ONLY")
    if forced is not None:
        return not forced
    requested = app.config["SOCKETIO_ASYNC_MODE"]
    return effective_async_mode(requested) == requested


def client_manager(app: Flask, write_only: bool | None = None) -> socketio.Manager:
    """A Redis manager when ``MESSAGE_QUEUE_URL`` is set; in-memory otherwise.

    Both pass deliveries through the replay gate.

    ``write_only`` defaults to "not the server process" (``serves_clients``): the
    ``flask`` CLI and scripts only emit through the queue and never subscribe.
    """
    url = app.config.get("MESSAGE_QUEUE_URL")
    if not url:
        return GatedManager()
    if write_only is None:
        write_only = not serves_clients(app)
    manager = ClusterRedisManager(
        url,
        channel=app.config["MESSAGE_QUEUE_CHANNEL"],
        write_only=write_only,
        retry_max=app.config["MESSAGE_QUEUE_RETRY_MAX"],
        # Catch-up after a gap delivers up to REPLAY_MAX_EVENTS: remember as many.
        dedupe_window=max(4096, app.config["REPLAY_MAX_EVENTS"]),
    )
    manager.latest_event_id, manager.missed_events = event_log_reader(app)
    manager.missed_limit = app.config["REPLAY_MAX_EVENTS"]
    return manager


def socket_origins(origins: list[str]) -> str | list[str] | None:
    """python-engineio's ``cors_allowed_origins`` for the configured list.

    python-engineio reads ``[]`` as "check no origin at all"; here an empty list
    means same origin only (``None``), and ``*`` anywhere means any origin.
    """
    if not origins:
        return None
    if "*" in origins:
        return "*"
    return list(origins)


def create_socketio_server(app: Flask) -> socketio.Server:
    """A ``socketio.Server`` configured from ``app.config``."""
    config = app.config
    sio = SwitchboardServer(
        async_mode=effective_async_mode(config["SOCKETIO_ASYNC_MODE"]),
        client_manager=client_manager(app),
        cors_allowed_origins=socket_origins(config["CORS_ALLOWED_ORIGINS"]),
        ping_interval=config["PING_INTERVAL"],
        ping_timeout=config["PING_TIMEOUT"],
        max_http_buffer_size=config["MAX_PAYLOAD_BYTES"],
        connect_timeout=config["CONNECT_TIMEOUT"],
        max_json_depth=config["MAX_JSON_DEPTH"],
        logger=False,
        engineio_logger=False,
    )
    # Wraps the websocket driver EdgeEngineIO already checks, so it must come last.
    tune_delivery(sio)
    return sio


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
    flask_wsgi: Any = app.wsgi_app
    hops = app.config.get("PROXY_FIX_HOPS", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address (login throttling) comes from the trusted proxies.
        flask_wsgi = ProxyFix(flask_wsgi, x_for=hops, x_proto=hops)
    wsgi: Any = socketio.WSGIApp(sio, flask_wsgi)
    if not app.config["WEBSOCKET_COMPRESSION"]:
        wsgi = StripWebSocketCompression(wsgi)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
