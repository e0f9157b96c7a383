"""Building the Socket.IO server from the app's configuration."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import socketio
from flask import Flask

from webapp import metrics
from webapp.errors import ValidationFailed
from webapp.input_guard import contains_nul, json_depth_exceeds
from webapp.metrics import MALFORMED_PACKETS
from webapp.realtime.cluster_manager import ClusterRedisManager
from webapp.realtime.connect_deadline import ConnectDeadlines
from webapp.realtime.delivery import tune_delivery
from webapp.realtime.gate import GatedManager
from webapp.realtime.lean import LeanEngineIO, slim_environ

logger = logging.getLogger(__name__)


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
    from webapp.services.replay import event_log_reader

    manager.latest_event_id, manager.missed_events = event_log_reader(app)
    manager.missed_limit = app.config["REPLAY_MAX_EVENTS"]
    return manager


RESERVED_EVENTS = frozenset(
    {"connect", "disconnect", "connect_error", "__disconnect_final"}
)
# What decoding a Socket.IO packet raises when it is malformed (RecursionError:
# JSON nested thousands deep).
MALFORMED = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    RecursionError,
)
# Seconds a session whose namespace was refused stays open: the refusal must
# reach the client, and the transport may still connect another namespace.
REFUSED_NAMESPACE_GRACE = 1.0


class SwitchboardServer(socketio.Server):
    """``socketio.Server`` that lets in only what the contract allows.

    Only registered namespaces connect (``/`` and unknown ones are refused with
    ``unknown_namespace``); a session with no namespace after ``connect_timeout``
    seconds is closed; a malformed packet closes its connection, logged once; an
    event nested deeper than ``max_json_depth`` or holding a NUL gets an error ack.
    """

    def __init__(
        self,
        *args: Any,
        connect_timeout: float = 10.0,
        max_json_depth: int = 32,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connect_timeout = connect_timeout
        self.max_json_depth = max_json_depth
        self._deadlines = ConnectDeadlines()
        self._sweeper_lock = threading.Lock()
        self._sweeper_started = False

    def _engineio_server_class(self) -> type[LeanEngineIO]:
        return LeanEngineIO

    # ------------------------------------------------------------------ connect
    def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        super()._handle_eio_connect(eio_sid, environ)
        # Not the whole request environ for the connection's lifetime.
        self.environ[eio_sid] = slim_environ(environ)
        self._deadlines.watch(eio_sid, self.connect_timeout)
        if not self._sweeper_started:
            with self._sweeper_lock:
                if not self._sweeper_started:
                    self._sweeper_started = True
                    self.start_background_task(self._close_sessions_without_namespace)

    def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        namespace = namespace or "/"
        known = self.namespace_handlers.keys() | self.handlers.keys()
        if namespace not in known and "*" not in known:
            metrics.CONNECTS_REFUSED.labels("unknown_namespace").inc()
            served = ", ".join(sorted(self.namespace_handlers))
            refusal = {
                "message": "unknown_namespace",
                "data": {"message": f"no such namespace; this server has {served}"},
            }
            self._send_packet(
                eio_sid,
                self.packet_class(
                    socketio.packet.CONNECT_ERROR, data=refusal, namespace=namespace
                ),
            )
            self._deadlines.watch(eio_sid, REFUSED_NAMESPACE_GRACE)
            return
        super()._handle_connect(eio_sid, namespace, data)
        if self.manager.sid_from_eio_sid(eio_sid, namespace) is None:
            # Refused: closed after the grace unless another namespace connects.
            self._deadlines.watch(eio_sid, REFUSED_NAMESPACE_GRACE)
            return
        # CONNECT has gone out: the namespace may now send welcome and the rest.
        acknowledged = getattr(
            self.namespace_handlers.get(namespace), "connection_acknowledged", None
        )
        if acknowledged is not None:
            acknowledged(eio_sid)

    def _handle_disconnect(
        self, eio_sid: str, namespace: str | None, reason: Any = None
    ) -> None:
        super()._handle_disconnect(eio_sid, namespace, reason)
        self._watch_if_bare(eio_sid)

    def disconnect(
        self, sid: str, namespace: str | None = None, ignore_queue: bool = False
    ) -> None:
        """Disconnect a namespace; a transport left with none gets a deadline."""
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace or "/")
        super().disconnect(sid, namespace=namespace, ignore_queue=ignore_queue)
        if eio_sid is not None:
            self._watch_if_bare(eio_sid)

    def _watch_if_bare(self, eio_sid: str) -> None:
        """A transport whose last namespace left must connect another in time."""
        if self.eio.is_open(eio_sid) and not self._has_namespace(eio_sid):
            self._deadlines.watch(eio_sid, self.connect_timeout)

    def _close_sessions_without_namespace(self) -> None:
        """Close sessions past their deadline that still have no namespace."""
        interval = max(0.1, min(0.5, self.connect_timeout / 2))
        while True:
            self.sleep(interval)
            try:
                for eio_sid in self._deadlines.due():
                    if self.eio.is_open(eio_sid) and not self._has_namespace(eio_sid):
                        self.eio.disconnect(eio_sid)
            except Exception:  # never let the sweeper die
                logger.exception("closing sessions without a namespace failed")

    def _has_namespace(self, eio_sid: str) -> bool:
        manager = self.manager
        return any(
            manager.sid_from_eio_sid(eio_sid, namespace) is not None
            for namespace in list(manager.get_namespaces())
        )

    # ------------------------------------------------------------------- events
    def _handle_event(
        self, eio_sid: str, namespace: str | None, id: int | None, data: Any
    ) -> None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise ValueError("an event needs a name")  # malformed: the caller closes
        # python-socketio would run the namespace's connect/disconnect handler for
        # a client *event* named "connect"; lifecycle names are never events.
        if data[0] in RESERVED_EVENTS:
            self._refuse_event(
                eio_sid, namespace, id, "unknown_event", "reserved event name"
            )
            return
        if json_depth_exceeds(data, self.max_json_depth + 1):  # + the event array
            message = f"event data is nested deeper than {self.max_json_depth} levels"
            self._refuse_event(eio_sid, namespace, id, "too_deep", message)
            return
        if contains_nul(data):
            message = "strings may not contain NUL characters"
            self._refuse_event(eio_sid, namespace, id, ValidationFailed.code, message)
            return
        super()._handle_event(eio_sid, namespace, id, data)

    def _refuse_event(
        self,
        eio_sid: str,
        namespace: str | None,
        id: int | None,
        code: str,
        message: str,
    ) -> None:
        """Answer an event that is not dispatched with an error ack (if it asked)."""
        if id is None:
            return
        refusal = {"ok": False, "error": {"code": code, "message": message}}
        self._send_packet(
            eio_sid,
            self.packet_class(
                socketio.packet.ACK, namespace=namespace, id=id, data=[refusal]
            ),
        )

    def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if not self.eio.is_open(eio_sid):
            return  # the rest of a closed session's packets is dropped unread
        try:
            super()._handle_eio_message(eio_sid, data)
        except MALFORMED as exc:
            reason = f"malformed Socket.IO packet ({type(exc).__name__})"
            self.eio.reject(eio_sid, reason, MALFORMED_PACKETS)


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
