"""``SwitchboardServer``: python-socketio's server with the contract's checks.

Part of the engine seam (``webapp/engine/``): it overrides python-socketio's
private connect, event and message hooks and calls ``_send_packet``; every name is
checked at the pinned versions by ``tests/unit/test_engine_hooks.py``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import socketio

from webapp import metrics
from webapp.engine.connect_deadline import ConnectDeadlines
from webapp.engine.environ import slim_environ
from webapp.engine.lean import LeanEngineIO
from webapp.errors import ValidationFailed
from webapp.input_guard import contains_nul, json_depth_exceeds
from webapp.metrics import MALFORMED_PACKETS

logger = logging.getLogger(__name__)


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
