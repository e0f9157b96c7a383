"""One group's transaction: idempotency lookup, one insert, then the emit in id order.

``log_writer`` takes the queued tickets and holds the ordering lock; here a group
becomes rows (``persist_group``: repeated idempotency keys answered with the
stored event, conflicts named by position) and, once committed, envelopes
emitted through ``emit.emit_envelope`` in id order (``emit_group``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Connection, insert, select, tuple_, update
from sqlalchemy.orm import Session

from webapp import metrics
from webapp.errors import Conflict, DependencyDown
from webapp.models import Event
from webapp.models.time import isoformat, utcnow
from webapp.services.cluster.message_queue import MessageQueueUnavailable
from webapp.services.delivery.emit import emit_envelope
from webapp.services.delivery.publish_request import PublishRequest, PublishResult
from webapp.services.webhooks.outbox import stage_published

logger = logging.getLogger(__name__)

EVENTS = Event.__table__
# Built once: constructing them per group cost their cache-key walk every time.
INSERT_EVENTS = insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)


@dataclass
class Ticket:
    """One caller's requests, waiting for the writer's answer."""

    requests: list[PublishRequest]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[PublishResult] | None = None
    error: BaseException | None = None
    received: float = field(default_factory=metrics.received_at)  # publish latency

    def finish(
        self, results: list[PublishResult] | None, error: BaseException | None = None
    ) -> None:
        """Hand the outcome to the waiting caller."""
        self.results, self.error = results, error
        self.done.set()


@dataclass
class Staged:
    """A ticket after the insert: its envelopes by position, new ids marked."""

    ticket: Ticket
    envelopes: list[dict[str, Any]]
    duplicate: list[bool]


@dataclass
class Attempt:
    """How far one group's transaction got."""

    # COMMIT was sent for inserted rows: after an error, its outcome is unknown.
    committed: bool = False
    # Conflicts with a key claimed earlier in the group: they hold only if that
    # claim commits, so they are answered after the commit, never before.
    held: list[tuple[Ticket, Conflict]] = field(default_factory=list)


Executor = Connection | Session


def persist_group(
    group: list[Ticket], executor: Executor, attempt: Attempt
) -> list[Staged]:
    """Insert the group's new events in one transaction; resolve repeats."""
    now = utcnow()
    existing = _existing(group, executor, now)
    # (tenant_id, key) -> (request_hash, envelope or ("new", staged, position))
    known: dict[tuple[int, str], tuple[str | None, Any]] = {
        k: (row["request_hash"], row["envelope"]) for k, row in existing.items()
    }
    rows: list[dict[str, Any]] = []
    slots: list[tuple[Staged, int]] = []
    staged_all: list[Staged] = []
    for ticket in group:
        staged = Staged(
            ticket, [{}] * len(ticket.requests), [False] * len(ticket.requests)
        )
        claims: dict[tuple[int, str], tuple[str | None, Any]] = {}
        conflict = None
        held = False
        for position, request in enumerate(ticket.requests):
            key = request.idempotency_key
            if not key:
                continue
            ident = (request.tenant_id, key)
            seen = claims.get(ident) or known.get(ident)
            if seen is None:
                claims[ident] = (request.request_hash, (staged, position))
            elif seen[0] and request.request_hash and seen[0] != request.request_hash:
                conflict = _conflict(position, len(ticket.requests) > 1, key)
                # Against another ticket's claim (not yet committed), not a stored row.
                held = ident not in claims and isinstance(seen[1], tuple)
                break
        if conflict is not None:
            if held:
                attempt.held.append((ticket, conflict))
            else:
                ticket.finish(None, conflict)
            continue
        for position, request in enumerate(ticket.requests):
            key = request.idempotency_key
            seen = known.get((request.tenant_id, key)) if key else None
            if seen is not None:
                staged.duplicate[position] = True
                staged.envelopes[position] = seen[1]  # envelope or (staged, pos)
                continue
            if key:
                known[(request.tenant_id, key)] = (
                    request.request_hash,
                    (staged, position),
                )
            rows.append(_row(request, now))
            slots.append((staged, position))
        staged_all.append(staged)
    if rows:
        ids = executor.execute(INSERT_EVENTS, rows).scalars().all()
        stage_published(executor, rows, list(ids), now)  # webhooks: same transaction
        attempt.committed = True  # from here on, an error is no proof of a rollback
        executor.commit()
        metrics.PUBLISH_GROUP_EVENTS.observe(len(rows))
        stamp = isoformat(now)
        for new_id, row, (staged, position) in zip(ids, rows, slots, strict=True):
            staged.envelopes[position] = {
                "id": new_id,
                "type": row["type"],
                "namespace": row["namespace"],
                "tenant_id": row["tenant_id"],
                "room": row["room"],
                "data": row["data"],
                "timestamp": stamp,
            }
    elif existing:
        executor.commit()  # the release of expired keys
    for staged in staged_all:
        for position, value in enumerate(staged.envelopes):
            if isinstance(value, tuple):  # a repeat of a key first seen in this group
                other, other_position = value
                staged.envelopes[position] = other.envelopes[other_position]
    return staged_all


def _conflict(position: int, in_batch: bool, key: str) -> Conflict:
    entry: dict[str, Any] = {
        "field": "idempotency_key",
        "message": "already used with a different request",
    }
    if in_batch:
        entry = {"index": position, **entry}
    return Conflict(
        f"idempotency_key {key!r} was already used with a different request;"
        " the first result stands",
        code="idempotency_conflict",
        details=[entry],
    )


def _row(request: PublishRequest, now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": request.tenant_id,
        "namespace": request.event_type.namespace,
        "room": request.room,
        "type": request.event_type.name,
        "data": request.data,
        "idempotency_key": request.idempotency_key,
        "request_hash": request.request_hash,
        "created_at": now,
    }


def _existing(
    group: list[Ticket], executor: Executor, now: datetime
) -> dict[tuple[int, str], dict[str, Any]]:
    """Events already holding the group's idempotency keys (within the window).

    Keys older than ``IDEMPOTENCY_WINDOW`` are released (set to NULL) so they can
    be used again.
    """
    wanted = {
        (request.tenant_id, request.idempotency_key)
        for ticket in group
        for request in ticket.requests
        if request.idempotency_key
    }
    if not wanted:
        return {}
    found = executor.execute(
        select(EVENTS).where(
            tuple_(EVENTS.c.tenant_id, EVENTS.c.idempotency_key).in_(sorted(wanted))
        )
    ).mappings()
    window = timedelta(seconds=current_app.config["IDEMPOTENCY_WINDOW"])
    result: dict[tuple[int, str], dict[str, Any]] = {}
    expired: list[int] = []
    for row in found:
        created = row["created_at"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=now.tzinfo)
        if created < now - window:
            expired.append(row["id"])
            continue
        result[(row["tenant_id"], row["idempotency_key"])] = {
            "request_hash": row["request_hash"],
            "envelope": {
                "id": row["id"],
                "type": row["type"],
                "namespace": row["namespace"],
                "tenant_id": row["tenant_id"],
                "room": row["room"],
                "data": row["data"],
                "timestamp": isoformat(row["created_at"]),
            },
        }
    if expired:
        executor.execute(
            update(EVENTS).where(EVENTS.c.id.in_(expired)).values(idempotency_key=None)
        )
    return result


def emit_group(staged_all: list[Staged]) -> None:
    """Emit the group's new events in id order, then answer every caller.

    If the queue fails mid-group the rest stay persisted (clients get them on
    replay) and their callers get the 503 that says so.
    """
    owners: list[tuple[int, dict[str, Any], Staged]] = []
    for staged in staged_all:
        for envelope, duplicate in zip(staged.envelopes, staged.duplicate, strict=True):
            if not duplicate:
                owners.append((envelope["id"], envelope, staged))
    owners.sort(key=lambda item: item[0])
    failed: dict[int, DependencyDown] = {}
    for _id, envelope, staged in owners:
        if id(staged) in failed:
            metrics.dropped(envelope["namespace"], "emit_failed")
            continue
        try:
            emit_envelope(envelope)
            metrics.observe_publish(envelope["namespace"], staged.ticket.received)
        except MessageQueueUnavailable as exc:
            failed[id(staged)] = exc
            # The queue is down: do not wait a timeout per remaining event.
            for _other_id, _env, other in owners:
                if id(other) not in failed and _other_id > _id:
                    failed[id(other)] = MessageQueueUnavailable(
                        f"event {_other_id} was persisted but the message queue"
                        " failed; other processes' clients get it on replay",
                        details={"id": _other_id, "persisted": True},
                    )
        except Exception as exc:
            # Anything else fails this caller only: the others' events still go out.
            logger.error("event %s was persisted but not emitted: %r", _id, exc)
            metrics.dropped(envelope["namespace"], "emit_failed")
            failed[id(staged)] = DependencyDown(
                f"event {_id} was persisted but could not be emitted;"
                " clients get it on replay",
                details={"id": _id, "persisted": True},
            )
    for staged in staged_all:
        error = failed.get(id(staged))
        if error is not None:
            staged.ticket.finish(None, error)
            continue
        staged.ticket.finish(
            [
                PublishResult(envelope, duplicate=duplicate)
                for envelope, duplicate in zip(
                    staged.envelopes, staged.duplicate, strict=True
                )
            ]
        )
