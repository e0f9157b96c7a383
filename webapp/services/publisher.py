"""The one path that emits: validate -> persist -> commit -> emit, with the id.

Nothing else in the code base calls ``emit``; REST views, socket handlers and CLI
commands all come through here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from webapp import metrics
from webapp.auth.identity import Identity
from webapp.errors import DomainError, Forbidden, ValidationFailed
from webapp.events import EventType, get_event_type, validate_payload
from webapp.extensions import db, get_socketio
from webapp.models import Event
from webapp.models.time import isoformat, utcnow
from webapp.realtime.gate import send_local
from webapp.services import message_queue, targets
from webapp.services.message_queue import MessageQueueUnavailable

logger = logging.getLogger(__name__)

# Serialises persist+commit+emit in this process so clients receive ids in order.
_publish_lock = threading.Lock()
# Arbitrary constant naming the PostgreSQL advisory lock ("SWBD").
PUBLISH_LOCK_KEY = 0x53574244


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
        )
    resolver = targets.TARGET_RESOLVERS.get(kind)
    if resolver is None:
        raise ValidationFailed(f"target kind {kind!r} is not available")
    if resolved is not None and (kind, target_id) in resolved:
        room, tenant_id = resolved[(kind, target_id)]
    else:
        room, tenant_id = resolver(identity, target_id)
        if resolved is not None:
            resolved[(kind, target_id)] = (room, tenant_id)
    clean = validate_payload(event_type, data)
    return PublishRequest(event_type, clean, room, tenant_id, idempotency_key)


@dataclass(frozen=True)
class BatchItem:
    """One parsed item of ``POST /api/publish/batch``."""

    namespace: str
    event: str
    data: Any
    target: Any
    idempotency_key: str | None = None


def publish_batch(identity: Identity, items: list[BatchItem]) -> list[PublishResult]:
    """Check every item first (errors name the index), then deliver all, in order."""
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
            exc.details = {"index": index, "errors": exc.details}
            raise
    return deliver_many(prepared)


def publish_as(
    identity: Identity,
    namespace: str,
    event: str,
    data: Any,
    target: Any,
    idempotency_key: str | None = None,
) -> PublishResult:
    """Publish on behalf of a caller (REST publish API, CLI)."""
    return deliver(prepare(identity, namespace, event, data, target, idempotency_key))


def publish_to_room(
    namespace: str,
    event: str,
    data: dict[str, Any],
    room: str,
    tenant_id: int,
    idempotency_key: str | None = None,
) -> PublishResult:
    """Publish from a service that has already authorised the room."""
    message_queue.ensure_available()
    event_type = get_event_type(namespace, event)
    clean = validate_payload(event_type, data)
    return deliver(PublishRequest(event_type, clean, room, tenant_id, idempotency_key))


def deliver(request: PublishRequest) -> PublishResult:
    """Persist (unless volatile), commit, then emit to the room with the id."""
    return deliver_many([request])[0]


def deliver_many(requests: list[PublishRequest]) -> list[PublishResult]:
    """Deliver several requests in order, persisted in one transaction."""
    results: list[PublishResult | None] = [None] * len(requests)
    persisted: list[tuple[int, Event]] = []
    # End the caller's read transaction first: a request queued on the publish
    # lock must not hold a pooled connection (50 queued requests would drain the
    # pool while one publishes).
    db.session.commit()
    with ordered_publish():
        for index, request in enumerate(requests):
            if not request.event_type.persisted:
                continue
            existing = _find_idempotent(request)
            if existing is not None:
                results[index] = PublishResult(existing.envelope(), duplicate=True)
                continue
            record = _new_record(request)
            db.session.add(record)
            persisted.append((index, record))
        if persisted:
            try:
                db.session.flush()
                envelopes = [(index, record.envelope()) for index, record in persisted]
                db.session.commit()
            except IntegrityError:
                # A concurrent request with the same idempotency key won the race:
                # fall back to one transaction per event to find which.
                db.session.rollback()
                envelopes = []
                for index, _record in persisted:
                    results[index] = _deliver_one_locked(requests[index])
            for index, envelope in envelopes:
                _emit_envelope(envelope)
                results[index] = PublishResult(envelope)
    for index, request in enumerate(requests):
        if not request.event_type.persisted:
            envelope = _volatile_envelope(request)
            _emit_envelope(envelope)
            results[index] = PublishResult(envelope)
    return [result for result in results if result is not None]


def _new_record(request: PublishRequest) -> Event:
    return Event(
        tenant_id=request.tenant_id,
        namespace=request.event_type.namespace,
        room=request.room,
        type=request.event_type.name,
        data=request.data,
        idempotency_key=request.idempotency_key,
        created_at=utcnow(),
    )


def _deliver_one_locked(request: PublishRequest) -> PublishResult:
    existing = _find_idempotent(request)
    if existing is not None:
        return PublishResult(existing.envelope(), duplicate=True)
    record = _new_record(request)
    db.session.add(record)
    try:
        db.session.flush()
        envelope = record.envelope()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _find_idempotent(request)
        if existing is None:
            raise
        return PublishResult(existing.envelope(), duplicate=True)
    _emit_envelope(envelope)
    return PublishResult(envelope)


@contextmanager
def ordered_publish() -> Iterator[None]:
    """Hold the publish lock across commit and emit, so ids reach clients in order.

    In one process a lock suffices. With PostgreSQL (several processes), a
    session-level advisory lock on a dedicated connection serialises id assignment,
    commit and the emit into the queue across every process: ids are committed and
    delivered in increasing order everywhere (docs/replay.md).
    """
    with _publish_lock:
        if db.engine.dialect.name != "postgresql":
            yield
            return
        with db.engine.connect() as lock_connection:
            lock_connection.execute(
                text("SELECT pg_advisory_lock(:key)"), {"key": PUBLISH_LOCK_KEY}
            )
            try:
                yield
            finally:
                lock_connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": PUBLISH_LOCK_KEY}
                )
                lock_connection.commit()


def _find_idempotent(request: PublishRequest) -> Event | None:
    if not request.idempotency_key:
        return None
    record = db.session.scalar(
        select(Event).where(
            Event.tenant_id == request.tenant_id,
            Event.idempotency_key == request.idempotency_key,
        )
    )
    if record is None:
        return None
    window = timedelta(seconds=current_app.config["IDEMPOTENCY_WINDOW"])
    created = record.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=utcnow().tzinfo)
    if created < utcnow() - window:
        # Older than the window: the key may be reused; release it.
        record.idempotency_key = None
        db.session.commit()
        return None
    return record


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


def _emit_envelope(envelope: dict[str, Any]) -> None:
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
    if _is_local(sio.manager, sid, namespace):
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


def _is_local(manager: Any, sid: str, namespace: str) -> bool:
    return bool(
        manager.is_connected(sid, namespace) or manager.is_pre_connected(sid, namespace)
    )


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
    if _is_local(get_socketio().manager, sid, namespace):
        get_socketio().disconnect(sid, namespace=namespace, ignore_queue=True)
        return
    try:
        get_socketio().disconnect(sid, namespace=namespace)
    except MessageQueueUnavailable:
        logger.warning("message queue down: cannot disconnect remote %s", sid)
