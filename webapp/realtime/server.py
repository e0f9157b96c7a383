"""Building the Socket.IO server from the app's configuration."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import socketio
from engineio import packet as eio_packet
from flask import Flask
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from webapp.metrics import MALFORMED_PACKETS
from webapp.realtime.gate import GatedManager, QueueOrderedGate
from webapp.services.message_queue import MessageQueueUnavailable

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


class ClusterRedisManager(QueueOrderedGate, socketio.RedisManager):  # type: ignore[misc]
    """``RedisManager`` that reports a failed publish and resubscribes promptly.

    Deliveries pass the replay gate and every process delivers in the queue's
    order (``QueueOrderedGate``, webapp/realtime/gate.py).

    The stock manager logs "giving up" and drops the message when Redis is down;
    here the emit raises ``MessageQueueUnavailable`` so the publisher can answer
    503. Its listener already reconnects and resubscribes, but backs off up to
    60 s; here the back-off is capped at ``retry_max`` so delivery resumes soon
    after Redis comes back.
    """

    def __init__(self, url: str, channel: str, write_only: bool, retry_max: float):
        super().__init__(
            url,
            channel=channel,
            write_only=write_only,
            redis_options={
                "socket_connect_timeout": 2,
                "socket_keepalive": True,
                # Fail within a second when Redis is down (the default retries
                # back off for several seconds while a publish request waits).
                "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            },
        )
        self.retry_max = retry_max
        self.connected: bool = False
        # Set by the app: (after_id) -> persisted envelopes with a greater id.
        self.missed_events: Callable[[int], list[dict[str, Any]]] | None = None
        self.latest_event_id: Callable[[], int] | None = None
        self.missed_limit: int | None = None

    def _publish(self, data: Any) -> Any:
        """Publish on the channel; raise after two failed attempts."""
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                return self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as exc:
                self.connected = False
                if attempt == 2:
                    logger.error("cannot publish to the message queue: %s", exc)
                    raise MessageQueueUnavailable() from exc
        return None  # pragma: no cover - the loop returns or raises

    def _redis_listen_with_retries(self) -> Iterator[Any]:  # pragma: no cover
        """Subscribe, and resubscribe after any failure (capped back-off)."""
        retry_sleep = 0.5
        subscribed = False
        ever_subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    if ever_subscribed:
                        logger.warning("message queue: resubscribed %s", self.channel)
                        self._catch_up_after_gap()
                    elif self.latest_event_id is not None:
                        self.delivered_through = self.latest_event_id()
                    subscribed = ever_subscribed = True
                    retry_sleep = 0.5
                yield from self.pubsub.listen()
            except Exception as exc:
                logger.error(
                    "message queue: cannot receive (%s); retrying in %.1f s",
                    exc,
                    retry_sleep,
                )
                subscribed = False
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, self.retry_max)

    def _catch_up_after_gap(self) -> None:
        """Deliver what was published while this process was not subscribed.

        Runs in the listener before it reads the new subscription, so the missed
        events reach local clients before newer ones; repeats are dropped by id.
        """
        if self.missed_events is None:
            return
        try:
            missed = self.missed_events(self.delivered_through)
        except Exception:  # the database may be unreachable too
            logger.exception("message queue: catch-up after resubscribing failed")
            self._make_local_clients_resume()
            return
        if self.missed_limit is not None and len(missed) > self.missed_limit:
            # Too much to push: clients reconnect and replay (or learn to refetch).
            self._make_local_clients_resume()
            return
        if missed:
            logger.warning("message queue: delivering %d missed events", len(missed))
        self.catch_up(missed)

    def _make_local_clients_resume(self) -> None:
        """Disconnect this process's clients; they resume with ``last_event_id``."""
        logger.warning("message queue: asking local clients to reconnect and replay")
        # Closing the transport (not a Socket.IO disconnect, after which clients
        # do not reconnect by themselves) makes clients reconnect with their id.
        for eio_sid in list(self.server.eio.sockets):
            try:
                self.server.eio.disconnect(eio_sid)
            except Exception:  # already gone
                pass


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
    )
    from webapp.services.replay import event_log_reader

    manager.latest_event_id, manager.missed_events = event_log_reader(app)
    manager.missed_limit = app.config["REPLAY_MAX_EVENTS"]
    return manager


RESERVED_EVENTS = frozenset(
    {"connect", "disconnect", "connect_error", "__disconnect_final"}
)


class SwitchboardServer(socketio.Server):
    """``socketio.Server`` that closes connections sending malformed packets.

    python-socketio logs a full traceback for every undecodable packet and keeps
    the connection open; here the first one is logged in one line and the
    connection is closed (DESIGN.md section 9).
    """

    def _handle_event(
        self, eio_sid: str, namespace: str | None, id: int | None, data: Any
    ) -> None:
        # python-socketio would run the namespace's connect/disconnect handler for
        # a client *event* named "connect"; lifecycle names are never events.
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise ValueError("an event needs a name")  # malformed: the caller closes
        if data[0] in RESERVED_EVENTS:
            if id is not None:
                refusal = {
                    "ok": False,
                    "error": {
                        "code": "unknown_event",
                        "message": "reserved event name",
                    },
                }
                self._send_packet(
                    eio_sid,
                    self.packet_class(
                        socketio.packet.ACK, namespace=namespace, id=id, data=[refusal]
                    ),
                )
            return
        super()._handle_event(eio_sid, namespace, id, data)

    def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            logger.warning(
                "closing %s: malformed Socket.IO packet (%s)",
                eio_sid,
                type(exc).__name__,
            )
            MALFORMED_PACKETS.inc()
            try:
                self.eio.disconnect(eio_sid)
            except KeyError:  # already gone
                pass


class CheckedWebSocket:
    """Wraps engine.io's websocket so an undecodable frame closes the connection.

    python-engineio decodes websocket frames outside its error handling; a frame
    that is not an engine.io packet escapes as an exception and eventlet writes an
    HTTP 500 with a traceback into the open socket. Checked here, such a frame
    ends the connection like a client close, logged in one line.
    """

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    def wait(self) -> Any:
        """The next frame, or ``None`` (closed) when it is not an engine.io packet."""
        data = self._ws.wait()
        if data is None:
            return None
        try:
            eio_packet.Packet(encoded_packet=data)
        except Exception as exc:  # any decoding failure means a malformed frame
            logger.warning("closing a connection: malformed engine.io frame (%s)", exc)
            MALFORMED_PACKETS.inc()
            return None
        return data


def check_websocket_frames(sio: socketio.Server) -> None:
    """Route every websocket through ``CheckedWebSocket``."""
    drivers = sio.eio._async  # python-engineio's per-mode drivers (private)
    original = drivers.get("websocket")
    if original is None:
        return

    def websocket(handler: Any, server: Any) -> Any:
        return original(lambda ws: handler(CheckedWebSocket(ws)), server)

    sio.eio._async = {**drivers, "websocket": websocket}


def create_socketio_server(app: Flask) -> socketio.Server:
    """A ``socketio.Server`` configured from ``app.config``."""
    from webapp.realtime.delivery import tune_delivery

    origins: Any = app.config["CORS_ALLOWED_ORIGINS"]
    if origins == ["*"]:
        origins = "*"
    sio = SwitchboardServer(
        async_mode=effective_async_mode(app.config["SOCKETIO_ASYNC_MODE"]),
        client_manager=client_manager(app),
        cors_allowed_origins=origins,
        ping_interval=app.config["PING_INTERVAL"],
        ping_timeout=app.config["PING_TIMEOUT"],
        max_http_buffer_size=app.config["MAX_PAYLOAD_BYTES"],
        logger=False,
        engineio_logger=False,
    )
    check_websocket_frames(sio)
    tune_delivery(sio)  # after check_websocket_frames: it wraps the same driver
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
