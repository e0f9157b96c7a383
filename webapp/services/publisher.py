"""The one path that emits: validate -> persist -> commit -> emit, with the id.

Nothing else in the code base calls ``emit``; REST views, socket handlers and CLI
commands all come through here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app

from webapp import metrics
from webapp.auth.identity import Identity
from webapp.engine.sockets import is_local, send_local
from webapp.errors import DomainError, Forbidden, ValidationFailed
from webapp.events import EventType, get_event_type, validate_payload
from webapp.extensions import db, get_socketio
from webapp.input_guard import check_json_depth, contains_nul
from webapp.models.time import isoformat, utcnow
from webapp.services import event_log_writer, message_queue, targets
from webapp.services.event_log_writer import PUBLISH_LOCK_KEY  # noqa: F401 - bench
from webapp.services.message_queue import MessageQueueUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    """What a publish produced; ``duplicate`` means an idempotent repeat."""

    envelope: dict[str, Any]
    duplicate: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The REST response body."""
        return {
            "id": self.envelope["id"],
            "event": self.envelope["type"],
            "room": self.envelope["room"],
            "duplicate": self.duplicate,
        }


@dataclass(frozen=True)
class PublishRequest:
    """A validated request, ready to persist and emit."""

    event_type: EventType
    data: dict[str, Any]
    room: str
    tenant_id: int
    idempotency_key: str | None = None
    # SHA-256 of the canonical request, kept with an idempotency key so that
    # reusing the key for another request is a conflict.
    request_hash: str | None = None


def request_hash(event_type: EventType, room: str, data: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical request: namespace, event, target room, data."""
    canonical = json.dumps(
        [event_type.namespace, event_type.name, room, data],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _flat(data: Any) -> bool:
    return isinstance(data, dict) and not any(
        isinstance(value, dict | list) for value in data.values()
    )


def _request(
    event_type: EventType,
    data: Any,
    room: str,
    tenant_id: int,
    idempotency_key: str | None,
) -> PublishRequest:
    # Depth first: a hostile document must not reach the schema validator's
    # recursion (or the JSON encoder's) at all.
    if not _flat(data):  # most payloads are one flat object: nothing to walk
        check_json_depth(data, current_app.config.get("MAX_JSON_DEPTH", 32), "data")
    if idempotency_key is not None and contains_nul(idempotency_key):
        # PostgreSQL cannot store it; refused alike on every database.
        raise ValidationFailed(
            "idempotency_key must not contain NUL",
            details=[{"field": "idempotency_key"}],
        )
    clean = validate_payload(event_type, data)
    digest = request_hash(event_type, room, clean) if idempotency_key else None
    return PublishRequest(event_type, clean, room, tenant_id, idempotency_key, digest)


def prepare(
    identity: Identity,
    namespace: str,
    event: str,
    data: Any,
    target: Any,
    idempotency_key: str | None = None,
    resolved: dict[tuple[str, int], tuple[str, int]] | None = None,
) -> PublishRequest:
    """Check that ``identity`` may publish this event to this target, and validate.

    Also refuses (503) while the message queue is down, before anything persists.
    ``resolved`` memoises target lookups across the items of one batch.
    """
    message_queue.ensure_available()
    event_type = get_event_type(namespace, event)
    if identity.role not in event_type.publishers:
        raise Forbidden(f"{identity.role!r} may not publish {event!r}")
    kind, target_id = targets.parse_target(target)
    if kind not in event_type.targets:
        raise ValidationFailed(
            f"{event!r} may target only: " + ", ".join(sorted(event_type.targets)),
            code="target_not_allowed",
            details=[{"field": "target"}],
        )
    resolver = targets.TARGET_RESOLVERS.get(kind)
    if resolver is None:
        raise ValidationFailed(
            f"target kind {kind!r} is not available", details=[{"field": "target"}]
        )
    if resolved is not None and (kind, target_id) in resolved:
        room, tenant_id = resolved[(kind, target_id)]
    else:
        room, tenant_id = resolver(identity, target_id)
        if resolved is not None:
            resolved[(kind, target_id)] = (room, tenant_id)
    return _request(event_type, data, room, tenant_id, idempotency_key)


def error_details(exc: DomainError, index: int | None = None) -> DomainError:
    """Give a publish error the one ``details`` shape of single and batch publish.

    ``details`` is a list of ``{"field": <dotted path or null>, "message": <text>}``
    objects; in a batch each also has ``"index"`` (the item's position). Returns
    ``exc`` (changed in place) for ``raise``.
    """
    entries = exc.details if isinstance(exc.details, list) else None
    if not entries:
        entries = [{"field": None}]
    shaped = []
    for entry in entries:
        item = dict(entry) if isinstance(entry, dict) else {"field": None}
        item.setdefault("field", None)
        item.setdefault("message", exc.message)
        if index is not None:
            item["index"] = index
        shaped.append(item)
    exc.details = shaped
    return exc


@dataclass(frozen=True)
class BatchItem:
    """One parsed item of ``POST /api/publish/batch``."""

    namespace: str
    event: str
    data: Any
    target: Any
    idempotency_key: str | None = None


def publish_batch(identity: Identity, items: list[BatchItem]) -> list[PublishResult]:
    """Check every item first (errors name the index), then deliver all, in order.

    Errors carry the ``details`` shape of ``error_details`` with ``index``.
    """
    resolved: dict[tuple[str, int], tuple[str, int]] = {}
    prepared = []
    for index, item in enumerate(items):
        try:
            prepared.append(
                prepare(
                    identity,
                    item.namespace,
                    item.event,
                    item.data,
                    item.target,
                    item.idempotency_key,
                    resolved,
                )
            )
        except DomainError as exc:
            if exc.status == 503:  # the queue, not the item: same answer as single
                raise
            raise error_details(exc, index) from None
    return deliver_many(prepared)


def publish_as(
    identity: Identity,
    namespace: str,
    event: str,
    data: Any,
    target: Any,
    idempotency_key: str | None = None,
) -> PublishResult:
    """Publish on behalf of a caller (REST publish API, CLI).

    Input errors carry the ``details`` shape of ``error_details``.
    """
    try:
        request = prepare(identity, namespace, event, data, target, idempotency_key)
    except DomainError as exc:
        if exc.status == 503:
            raise
        raise error_details(exc) from None
    return deliver(request)


def publish_to_room(
    namespace: str,
    event: str,
    data: dict[str, Any],
    room: str,
    tenant_id: int,
    idempotency_key: str | None = None,
    skip_sid: str | None = None,
) -> PublishResult:
    """Publish from a service that has already authorised the room.

    ``skip_sid`` leaves one connection out of a volatile event (a joiner is not
    told about itself): with a message queue, delivery is asynchronous, so the
    joiner may already be in the room when the event arrives.
    """
    message_queue.ensure_available()
    event_type = get_event_type(namespace, event)
    request = _request(event_type, data, room, tenant_id, idempotency_key)
    if skip_sid is None:
        return deliver(request)
    if event_type.persisted:
        raise ValueError("only volatile events may skip a connection")
    result = PublishResult(_volatile_envelope(request))
    emit_envelope(result.envelope, skip_sid=skip_sid)
    return result


def deliver(request: PublishRequest) -> PublishResult:
    """Persist (unless volatile), commit, then emit to the room with the id."""
    return deliver_many([request])[0]


def deliver_many(requests: list[PublishRequest]) -> list[PublishResult]:
    """Deliver several requests in order; persisted ones go to the group writer.

    The process's writer persists them with whatever other publishes are queued,
    in one transaction, and emits them in id order (``event_log_writer``).
    A repeated idempotency key with another request raises 409
    ``idempotency_conflict`` and persists nothing of ``requests``.
    """
    persisted = [request for request in requests if request.event_type.persisted]
    written: list[PublishResult] = []
    if persisted:
        session = db.session
        if session.new or session.dirty or session.deleted or _pool_is_busy():
            # A service caller's unsaved change must not be lost (or left to the
            # end of the request) while its event is already out. And while the
            # pool runs short, a waiting request hands its connection back rather
            # than holding it while the writer works.
            session.commit()
        written = event_log_writer.write(persisted)
    done = iter(written)
    results = [
        next(done)
        if request.event_type.persisted
        else PublishResult(_volatile_envelope(request))
        for request in requests
    ]
    for request, result in zip(requests, results, strict=True):
        if not request.event_type.persisted:
            emit_envelope(result.envelope)
    return results


def _pool_is_busy() -> bool:
    pool = db.engine.pool
    checked_out, size = getattr(pool, "checkedout", None), getattr(pool, "size", None)
    return callable(checked_out) and callable(size) and checked_out() >= size()


def _volatile_envelope(request: PublishRequest) -> dict[str, Any]:
    return {
        "id": None,
        "type": request.event_type.name,
        "namespace": request.event_type.namespace,
        "tenant_id": request.tenant_id,
        "room": request.room,
        "data": request.data,
        "timestamp": isoformat(utcnow()),
    }


def emit_envelope(envelope: dict[str, Any], skip_sid: str | None = None) -> None:
    """Emit to the room on every process; 503 if the queue fails after commit.

    A persisted event stays in the log when the emit fails, so clients get it on
    replay; the error says so (``details.persisted``, ``details.id``).
    """
    if not envelope.get("room"):
        raise ValueError("refusing to emit without a room")
    try:
        get_socketio().emit(
            envelope["type"],
            envelope,
            to=envelope["room"],
            namespace=envelope["namespace"],
            skip_sid=skip_sid,
        )
    except MessageQueueUnavailable as exc:
        health = message_queue.queue_health()
        if health is not None:
            health.mark_down()
        persisted = envelope["id"] is not None
        raise MessageQueueUnavailable(
            (
                f"event {envelope['id']} was persisted but the message queue failed;"
                " other processes' clients get it on replay"
            )
            if persisted
            else "the message queue failed; the volatile event was not delivered",
            details={"id": envelope["id"], "persisted": persisted},
        ) from exc
    metrics.EVENTS_PUBLISHED.labels(envelope["namespace"], envelope["type"]).inc()


def send_to_connection(sid: str, namespace: str, event: str, data: Any) -> None:
    """Emit a server message (welcome, snapshot, ...) to one connection.

    Delivered locally when the connection is on this process, so it can never be
    reordered behind queue traffic; otherwise through the queue.
    """
    sio = get_socketio()
    if is_local(sio.manager, sid, namespace):
        send_local(sio.manager, sid, namespace, event, data)
    else:
        sio.emit(event, data, to=sid, namespace=namespace)


def send_replayed(
    manager: Any, sid: str, namespace: str, envelope: dict[str, Any]
) -> None:
    """Send one replayed persisted event, marked ``replayed: true``."""
    send_local(
        manager, sid, namespace, envelope["type"], {**envelope, "replayed": True}
    )


def send_live(
    manager: Any, sid: str, namespace: str, event: str, envelope: dict[str, Any]
) -> None:
    """Send a live event that the replay gate held back."""
    send_local(manager, sid, namespace, event, envelope)


def enter_room_for_tenant_connections(home_tenant_id: int, room: str) -> int:
    """Put every live connection of a tenant's users into ``room`` (cluster-wide).

    Used when an MSP gains a client tenant: its staff, already connected, start
    receiving that tenant's events without reconnecting. Returns how many.
    """
    from webapp.services import connections

    sio = get_socketio()
    entered = 0
    try:
        for info in connections.registry().all():
            if info.tenant_id == home_tenant_id:
                sio.enter_room(info.sid, room, namespace=info.namespace)
                entered += 1
    except MessageQueueUnavailable:
        # The tenant exists already; its staff see it when they next connect.
        logger.warning("message queue down: staff join %s on reconnect", room)
    return entered


def disconnect_connection(sid: str, namespace: str) -> None:
    """Close one namespace connection, on whichever process holds it."""
    if is_local(get_socketio().manager, sid, namespace):
        get_socketio().disconnect(sid, namespace=namespace, ignore_queue=True)
        return
    try:
        get_socketio().disconnect(sid, namespace=namespace)
    except MessageQueueUnavailable:
        logger.warning("message queue down: cannot disconnect remote %s", sid)
