"""The base namespace: connect auth, rooms, welcome, app context and error acks."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import socketio
from flask import Flask, current_app
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from webapp import metrics
from webapp.auth.identity import Identity
from webapp.auth.tokens import identity_from_socket_token
from webapp.engine.gate import GATE
from webapp.engine.sockets import is_connected, sid_of_transport
from webapp.errors import DependencyDown, DomainError, NotFound, RateLimited
from webapp.input_guard import is_valid_id
from webapp.models.time import isoformat, utcnow
from webapp.realtime.connection_cap import enforce_per_user_cap
from webapp.realtime.schemas import error_ack
from webapp.rooms import rooms_for_identity
from webapp.services.cluster import connections
from webapp.services.cluster.connections import ConnectionInfo
from webapp.services.delivery import to_connection
from webapp.services.delivery.replay import (
    open_gate,
    parse_last_event_id,
    replay_connection,
)
from webapp.services.tenancy.auth_cache import auth_cache
from webapp.services.tenancy.visibility import msp_client_ids

logger = logging.getLogger(__name__)

# Handlers that are not client events and so are not rate limited or acked.
LIFECYCLE_EVENTS = ("connect", "disconnect")


class BaseNamespace(socketio.Namespace):
    """Authenticates at connect and wraps every handler (app context, error acks)."""

    def __init__(self, namespace: str, app: Flask) -> None:
        super().__init__(namespace)
        self.app = app
        self._buckets: dict[str, Any] = {}
        self._errors: dict[str, int] = {}
        # Accepted connections whose CONNECT has not gone out yet, by sid.
        self._pending: dict[str, tuple[Identity, list[str], dict[str, Any]]] = {}

    # ------------------------------------------------------------------ dispatch
    def trigger_event(self, event: str, *args: Any) -> Any:
        """Run every handler inside an app context; turn domain errors into acks."""
        with self.app.app_context():
            if event == "connect":
                return self._connect_or_refuse(*args)
            if event == "disconnect":
                return self._handle_disconnect(args[0])
            return self._handle_client_event(event, args[0], args[1:])

    def _handle_client_event(self, event: str, sid: str, args: tuple[Any, ...]) -> Any:
        handler = getattr(self, "on_" + event, None)
        if handler is None or event in LIFECYCLE_EVENTS:
            # Labelled "unknown", not by name: a client must not mint label values.
            return self._reject(
                sid, "unknown", "unknown_event", f"no such event {event!r}"
            )
        from webapp.realtime.limits import TokenBucket

        bucket = self._buckets.get(sid)
        if bucket is None:
            config = current_app.config
            bucket = TokenBucket(
                config["CLIENT_EVENTS_PER_SECOND"], config["CLIENT_EVENTS_BURST"]
            )
            self._buckets[sid] = bucket
        if not bucket.take():
            return self._reject(
                sid, event, RateLimited.code, "too many events; slow down"
            )
        try:
            result = handler(sid, *args)
        except DomainError as exc:
            return self._reject(sid, event, exc.code, exc.message, exc.details)
        except Exception:
            logger.exception("handler %s%s failed", self.namespace, event)
            return self._reject(sid, event, "internal_error", "internal server error")
        metrics.CLIENT_EVENTS.labels(self.namespace, event, "ok").inc()
        return result

    def _reject(
        self, sid: str, event: str, code: str, message: str, details: Any = None
    ) -> dict[str, Any]:
        """Error ack; a connection that keeps sending bad input is disconnected.

        ``event`` labels the metric: a registered event's name, or "unknown".
        """
        metrics.CLIENT_EVENTS.labels(self.namespace, event, code).inc()
        count = self._errors.get(sid, 0) + 1
        self._errors[sid] = count
        if count > current_app.config["MAX_ERRORS_PER_CONNECTION"]:
            logger.warning(
                "disconnecting %s on %s: repeated bad input", sid, self.namespace
            )
            to_connection.disconnect_connection(sid, self.namespace or "/")
        return error_ack(code, message, details)

    # ------------------------------------------------------------------- connect
    def _connect_or_refuse(self, sid: str, environ: dict[str, Any], auth: Any) -> bool:
        """Connect; a failure of ours is a refusal with a code, never a closed pipe.

        Left to python-socketio, an exception here would end the transport as if
        the client had sent a malformed packet.
        """
        try:
            return self._handle_connect(sid, environ, auth)
        except socketio.exceptions.ConnectionRefusedError:
            raise
        except (OperationalError, PoolTimeout, DependencyDown) as exc:
            logger.warning("refusing %s: a dependency is down (%s)", sid, exc)
            code, message = "dependency_unavailable", "try again shortly"
        except Exception:
            logger.exception("connect on %s failed", self.namespace)
            code, message = "internal_error", "internal server error"
        metrics.CONNECTS_REFUSED.labels(code).inc()
        raise socketio.exceptions.ConnectionRefusedError(code, {"message": message})

    def _handle_connect(self, sid: str, environ: dict[str, Any], auth: Any) -> bool:
        auth = auth if isinstance(auth, dict) else {}
        try:
            identity = identity_from_socket_token(auth.get("token"))
            self.check_connection_allowed(identity)
            context = self.connect_context(identity, auth)
        except DomainError as exc:
            # The server closes the transport after a grace unless another
            # namespace connects on it (SwitchboardServer._handle_connect).
            metrics.CONNECTS_REFUSED.labels(exc.code).inc()
            raise socketio.exceptions.ConnectionRefusedError(
                exc.code, {"message": exc.message}
            ) from None
        namespace = self.namespace or "/"
        rooms = rooms_for_identity(identity, context.get("watched_tenant_id"))
        # Hold live events before entering the rooms: the client must get welcome
        # (and its replay) first, and those can only go out once python-socketio
        # has acknowledged the connection, after this handler returns.
        GATE.hold(
            sid, namespace, context.get("last_event_id"), covered=frozenset(rooms)
        )
        try:
            self.save_session(sid, {"identity": identity.to_dict(), "rooms": rooms})
            for room in rooms:
                self.enter_room(sid, room)
            connections.registry().add(
                ConnectionInfo(
                    sid, namespace, identity.tenant_id, identity.user_id, identity.jti
                )
            )
        except Exception:
            GATE.release(sid)  # python-socketio never disconnects a pending sid
            raise
        metrics.CONNECTIONS.labels(namespace).inc()
        # Welcome can only go out after python-socketio's CONNECT, which it sends
        # once this returns; the server then calls connection_acknowledged.
        self._pending[sid] = (identity, rooms, context)
        return True

    def connection_acknowledged(self, eio_sid: str) -> None:
        """Start what follows CONNECT: welcome, snapshot, then replay or live events.

        Called by the server right after python-socketio sent CONNECT (or refused),
        in the greenthread that read the client's CONNECT: no task or polling per
        connection. Only a replay, which may be long, gets its own task, so this
        connection's reader is not held up.
        """
        namespace = self.namespace or "/"
        sid = sid_of_transport(self.server.manager, eio_sid, namespace)
        pending = self._pending.pop(sid, None) if sid is not None else None
        if sid is None or pending is None:
            return  # refused, or gone already
        identity, rooms, context = pending
        with self.app.app_context():
            try:
                if not is_connected(self.server.manager, sid, namespace):
                    GATE.release(sid)
                    return
                welcome = self.welcome(sid, identity)
                to_connection.send_to_connection(sid, namespace, "welcome", welcome)
                self.connection_opened(sid, identity, rooms, context)
                if not is_connected(self.server.manager, sid, namespace):
                    self.connection_closed(sid, identity)  # it left meanwhile
                last_event_id = context.get("last_event_id")
                if last_event_id is None:
                    open_gate(sid, namespace)
                    return
            except Exception:
                self._setup_failed(sid, namespace)
                return
        self.server.start_background_task(
            self._replay_after_connect, sid, rooms, last_event_id
        )

    def _replay_after_connect(
        self, sid: str, rooms: list[str], last_event_id: int
    ) -> None:
        """Replay what the connection missed, then let live events through."""
        namespace = self.namespace or "/"
        with self.app.app_context():
            try:
                replay_connection(sid, namespace, rooms, last_event_id)
            except Exception:
                self._setup_failed(sid, namespace)

    def _setup_failed(self, sid: str, namespace: str) -> None:
        logger.exception("setting up %s on %s failed", sid, namespace)
        GATE.release(sid)
        to_connection.disconnect_connection(sid, namespace)

    def check_connection_allowed(self, identity: Identity) -> None:
        """Refuse a connection over the per-user cap (``connection_cap.py``)."""
        enforce_per_user_cap(identity, self.namespace or "/")

    def connect_context(
        self, identity: Identity, auth: dict[str, Any]
    ) -> dict[str, Any]:
        """Parse connect options from ``auth`` (subclasses may add their own)."""
        context: dict[str, Any] = {
            "last_event_id": parse_last_event_id(auth.get("last_event_id"))
        }
        watched = auth.get("tenant_id")
        if identity.is_admin and watched is not None:
            if isinstance(watched, bool) or not isinstance(watched, int):
                raise DomainError("tenant_id must be an integer", code="invalid")
            # An id outside 1..2**63-1 names no tenant (and would overflow the
            # database driver): the same not_found as an unknown one.
            if not is_valid_id(watched) or auth_cache().tenant(watched) is None:
                raise NotFound("tenant not found")
            context["watched_tenant_id"] = watched
        return context

    def welcome(self, sid: str, identity: Identity) -> dict[str, Any]:
        """Who the client is and how the server will check it is alive."""
        config = current_app.config
        return {
            "sid": sid,
            "namespace": self.namespace,
            "user": identity.user_summary(),
            "heartbeat": {
                "interval": int(config["PING_INTERVAL"] * 1000),
                "timeout": int(config["PING_TIMEOUT"] * 1000),
            },
            "server_time": isoformat(utcnow()),
        }

    def connection_opened(
        self, sid: str, identity: Identity, rooms: list[str], context: dict[str, Any]
    ) -> None:
        """Hook for namespaces that send a snapshot after ``welcome``."""

    # ---------------------------------------------------------------- disconnect
    def _handle_disconnect(self, sid: str) -> None:
        GATE.release(sid)
        self._pending.pop(sid, None)
        self._buckets.pop(sid, None)
        self._errors.pop(sid, None)
        namespace = self.namespace or "/"
        info = connections.registry().remove(sid, namespace)
        if info is None:
            return
        metrics.CONNECTIONS.labels(namespace).dec()
        try:
            identity = self.identity(sid)
        except KeyError:
            return
        self.connection_closed(sid, identity)

    def connection_closed(self, sid: str, identity: Identity) -> None:
        """Hook for namespaces that clean up (presence) when a connection goes."""

    # ------------------------------------------------------------------- helpers
    def identity(self, sid: str) -> Identity:
        """The identity saved at connect, with an MSP's client tenants re-read.

        An MSP may gain client tenants while its staff are connected; their
        visibility must follow without a reconnect.
        """
        identity = Identity.from_dict(self.get_session(sid)["identity"])
        if identity.tenant_kind == "msp" and identity.role in ("msp", "admin"):
            clients = msp_client_ids(identity.tenant_id)
            identity = replace(
                identity, visible_tenant_ids=(identity.tenant_id, *clients)
            )
        return identity
