"""The publish pipeline: check -> persist (the log writer) -> commit -> emit.

REST views, socket handlers and CLI commands all publish through here
(``publish_as``, ``publish_batch``, ``publish_to_room``); persisted events go to
the process's group writer (``log_writer``), which emits them in id order
through ``emit.emit_envelope``.
"""

from __future__ import annotations

from typing import Any

from webapp import metrics
from webapp.auth.identity import Identity
from webapp.errors import DomainError
from webapp.event_registry import get_event_type
from webapp.extensions import db
from webapp.models.time import isoformat, utcnow
from webapp.services.cluster import message_queue
from webapp.services.delivery import log_writer as event_log_writer
from webapp.services.delivery.emit import emit_envelope
from webapp.services.delivery.publish_request import (
    BatchItem,
    PublishRequest,
    PublishResult,
    checked_request,
    error_details,
    prepare,
)


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
    request = checked_request(event_type, data, room, tenant_id, idempotency_key)
    if skip_sid is None:
        return deliver(request)
    if event_type.persisted:
        raise ValueError("only volatile events may skip a connection")
    result = PublishResult(_volatile_envelope(request))
    emit_envelope(result.envelope, skip_sid=skip_sid)
    metrics.observe_publish(result.envelope["namespace"], metrics.received_at())
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
            metrics.observe_publish(result.envelope["namespace"], metrics.received_at())
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
