"""Group commit: one writer per process persists queued publishes together.

Concurrent publishes hand their validated requests to the process's writer and
wait. The writer takes everything queued (up to ``PUBLISH_GROUP_MAX`` events),
inserts it in one transaction, commits once, then emits the group in id order —
all under the ordering lock (a PostgreSQL advisory lock across processes), taken
once per group instead of once per event. See docs/replay.md.

Plain ``threading`` primitives: wsgi.py monkey-patches them under eventlet and
gevent, so the writer is a green thread there and a real thread otherwise.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, insert, select, text, tuple_, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from webapp import metrics
from webapp.errors import Conflict, DependencyDown
from webapp.extensions import db
from webapp.models import Event
from webapp.models.time import isoformat, utcnow
from webapp.services.cluster.message_queue import MessageQueueUnavailable
from webapp.services.delivery.emit import emit_envelope
from webapp.services.delivery.publish_request import PublishRequest, PublishResult

logger = logging.getLogger(__name__)

# Arbitrary constant naming the PostgreSQL advisory lock ("SWBD").
PUBLISH_LOCK_KEY = 0x53574244
EXTENSION = "switchboard.event_log_writer"
EVENTS = Event.__table__
# Built once: constructing them per group cost their cache-key walk every time.
INSERT_EVENTS = insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)
LOCK = text("SELECT pg_advisory_lock(:k)")
UNLOCK = text("SELECT pg_advisory_unlock(:k)")
# Longest a publish waits for its group (seconds): a stuck writer (the ordering
# lock held elsewhere, a hung database) answers 503 instead of hanging the caller.
WAIT_TIMEOUT = 30.0
# One writer per process; the inline path (in-memory SQLite, or no group
# commit) shares this lock.
_inline_lock = threading.Lock()


@dataclass
class Ticket:
    """One caller's requests, waiting for the writer's answer."""

    requests: list[PublishRequest]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[PublishResult] | None = None
    error: BaseException | None = None

    def finish(
        self, results: list[PublishResult] | None, error: BaseException | None = None
    ) -> None:
        """Hand the outcome to the waiting caller."""
        self.results, self.error = results, error
        self.done.set()


@dataclass
class _Staged:
    """A ticket after the insert: its envelopes by position, new ids marked."""

    ticket: Ticket
    envelopes: list[dict[str, Any]]
    duplicate: list[bool]


@dataclass
class _Attempt:
    """How far one group's transaction got."""

    # COMMIT was sent for inserted rows: after an error, its outcome is unknown.
    committed: bool = False
    # Conflicts with a key claimed earlier in the group: they hold only if that
    # claim commits, so they are answered after the commit, never before.
    held: list[tuple[Ticket, Conflict]] = field(default_factory=list)


Executor = Connection | Session


class EventLogWriter:
    """The process's single event-log writer (group commit)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.group_max = int(app.config.get("PUBLISH_GROUP_MAX", 500))
        self._cond = threading.Condition()
        self._pending: deque[Ticket] = deque()
        self._pid: int | None = None
        self._connection: Connection | None = None

    def submit(self, requests: list[PublishRequest]) -> list[PublishResult]:
        """Queue persisted requests; wait until their group is committed and emitted."""
        ticket = Ticket(requests)
        with self._cond:
            if self._pid != os.getpid():  # first use, or a forked worker
                self._pid = os.getpid()
                self._pending.clear()
                self._connection = None
                threading.Thread(
                    target=self._run, name="event-log-writer", daemon=True
                ).start()
            self._pending.append(ticket)
            self._cond.notify()
        if not ticket.done.wait(WAIT_TIMEOUT):
            self._give_up(ticket)
        if ticket.error is not None:
            raise ticket.error
        assert ticket.results is not None
        return ticket.results

    def _give_up(self, ticket: Ticket) -> None:
        """Answer a ticket the writer did not finish in time (503)."""
        with self._cond:
            queued = any(other is ticket for other in self._pending)
            if queued:  # never taken: it will never be written
                self._pending = deque(t for t in self._pending if t is not ticket)
        if ticket.done.is_set():  # finished after all
            return
        if queued:
            raise DependencyDown(
                "the event log did not answer in time; nothing was published",
                details={"persisted": False},
            )
        raise DependencyDown(
            "the event log did not answer in time; the events may or may not be"
            " persisted",
            details={"persisted": "unknown"},
        )

    def _take(self) -> list[Ticket]:
        with self._cond:
            while not self._pending:
                self._cond.wait()
        # Let callers that are already runnable queue up too (a green-thread
        # switch under eventlet/gevent): a bigger group, one commit.
        time.sleep(0)
        with self._cond:
            group = [self._pending.popleft()]
            size = len(group[0].requests)
            while self._pending and size + len(self._pending[0].requests) <= (
                self.group_max
            ):
                ticket = self._pending.popleft()
                size += len(ticket.requests)
                group.append(ticket)
        return group

    def _run(self) -> None:
        with self.app.app_context():
            while True:
                group = self._take()
                try:
                    process(group, self._executor())
                except BaseException as exc:  # never let the writer die
                    logger.exception("event-log writer failed a group")
                    self._discard_connection()
                    for ticket in group:
                        if not ticket.done.is_set():
                            ticket.finish(None, _answer(exc))

    def _discard_connection(self) -> None:
        # Unknown state after an unexpected error: start the next group afresh.
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                if not connection.closed:
                    # Closed, not pooled: it may still hold the ordering lock
                    # (say, granted but the reply lost), which a pooled
                    # connection would keep holding.
                    connection.invalidate()
                connection.close()
            except Exception:
                logger.warning("could not close the writer's connection", exc_info=True)

    def _executor(self) -> Connection:
        # A connection of its own, kept: the writer checks one out of the pool
        # only on first use and after a discard or disconnect (so requests that
        # hold pooled connections rarely make it wait; such a wait is bounded by
        # the pool timeout, answered 503), and never pays a pre-ping per group.
        # SQLAlchemy replaces it after a disconnect.
        if self._connection is None or self._connection.closed:
            self._connection = db.engine.connect()
        if self._connection.invalidated:
            self._connection.rollback()
        return self._connection


def writer_for(app: Flask) -> EventLogWriter | None:
    """The app's writer; ``None`` where publishes are written inline."""
    writer: EventLogWriter | None = app.extensions.get(EXTENSION)
    if writer is None:
        if not app.config.get("PUBLISH_GROUP_COMMIT", True) or _in_memory(app):
            return None
        writer = app.extensions.setdefault(EXTENSION, EventLogWriter(app))
    return writer


def _in_memory(app: Flask) -> bool:
    # One shared connection (StaticPool): a second writer connection would be the
    # same connection, mid-transaction for the caller. Such apps write inline.
    url = db.engine.url
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def write(requests: list[PublishRequest]) -> list[PublishResult]:
    """Persist, commit and emit ``requests`` (all persisted kinds), in order."""
    writer = writer_for(current_app._get_current_object())  # type: ignore[attr-defined]
    if writer is not None:
        return writer.submit(requests)
    ticket = Ticket(requests)
    with _inline_lock:
        if _in_memory(current_app):
            process([ticket], db.session())
        else:
            # One connection throughout: a session hands its connection back to
            # the pool at commit, and the unlock could then run on another one,
            # leaving the advisory lock held on a pooled connection.
            with db.engine.connect() as connection:
                process([ticket], connection)
    if ticket.error is not None:
        raise ticket.error
    assert ticket.results is not None
    return ticket.results


def process(group: list[Ticket], executor: Executor) -> None:
    """Write one group; if it fails as a whole, write each ticket on its own.

    One bad ticket (an IntegrityError, a conflict the lookup could not see) must
    neither lose nor duplicate the others' events: the failed transaction wrote
    nothing, so each ticket is retried in a transaction of its own. Only then: once
    COMMIT was sent, an error leaves the outcome unknown (the reply may be lost),
    and a retry could write the events twice, so those callers get a 503.
    """
    retry = False
    attempt = _Attempt()
    with ordering(executor):
        try:
            staged = _persist(group, executor, attempt)
        except Exception as exc:
            if attempt.committed:
                logger.error(
                    "publish group of %d: commit outcome unknown (%s)", len(group), exc
                )
                for ticket in group:
                    if not ticket.done.is_set():
                        ticket.finish(None, _unknown_outcome(exc))
                executor.rollback()
                return
            executor.rollback()
            if len(group) == 1:
                group[0].finish(None, _answer(exc))
                return
            logger.warning(
                "publish group of %d failed (%s): one by one", len(group), exc
            )
            retry = True
        else:
            for ticket, conflict in attempt.held:  # their claims are committed
                ticket.finish(None, conflict)
            _emit(staged)
    if retry:
        for ticket in group:
            if not ticket.done.is_set():  # a conflict already answered stays so
                process([ticket], executor)


def _answer(exc: BaseException) -> BaseException:
    """What a caller is told of a failure: a database outage is a 503."""
    if isinstance(exc, OperationalError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        error = DependencyDown("the database is unavailable")
        error.__cause__ = exc
        return error
    return exc


def _unknown_outcome(exc: BaseException) -> DependencyDown:
    error = DependencyDown(
        "the database did not confirm the commit: the events may or may not be"
        " persisted; retry with an idempotency key to publish them once",
        details={"persisted": "unknown"},
    )
    error.__cause__ = exc
    return error


@contextmanager
def ordering(executor: Executor) -> Iterator[None]:
    """Hold the cluster-wide ordering lock across insert, commit and emit.

    On PostgreSQL a session-level advisory lock on the writer's connection: every
    process takes turns per group, so ids are committed and handed to the message
    queue in increasing order everywhere. Elsewhere (SQLite: one process, one
    writer) the single writer is the order.
    """
    if db.engine.dialect.name != "postgresql":
        yield
        return
    executor.execute(LOCK, {"k": PUBLISH_LOCK_KEY})
    try:
        yield
    finally:
        released = False
        try:
            executor.rollback()  # nothing pending; ends the lock's transaction
            released = _unlock(executor)
        except Exception:
            logger.warning("could not release the publish lock", exc_info=True)
        if not released:
            # A closed connection releases its session locks with it: never keep
            # one that may still hold the lock (every process would wait on it).
            # SQLAlchemy reconnects on next use.
            executor.invalidate()
            executor.rollback()  # ends the failed transaction; nothing is sent


def _unlock(executor: Executor) -> bool:
    """Release the advisory lock; False if it was not held. Nothing may be pending."""
    if not isinstance(executor, Connection):
        released = executor.execute(UNLOCK, {"k": PUBLISH_LOCK_KEY}).scalar()
        executor.commit()
        return bool(released)
    # The writer's own connection: in autocommit, one round trip instead of
    # BEGIN, SELECT, COMMIT (psycopg2 sends BEGIN on its own), once per group.
    raw: Any = executor.connection.dbapi_connection
    raw.autocommit = True
    try:
        cursor = raw.cursor()
        try:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (PUBLISH_LOCK_KEY,))
            return bool(cursor.fetchone()[0])
        finally:
            cursor.close()
    finally:
        raw.autocommit = False


def _persist(
    group: list[Ticket], executor: Executor, attempt: _Attempt
) -> list[_Staged]:
    """Insert the group's new events in one transaction; resolve repeats."""
    now = utcnow()
    existing = _existing(group, executor, now)
    # (tenant_id, key) -> (request_hash, envelope or ("new", staged, position))
    known: dict[tuple[int, str], tuple[str | None, Any]] = {
        k: (row["request_hash"], row["envelope"]) for k, row in existing.items()
    }
    rows: list[dict[str, Any]] = []
    slots: list[tuple[_Staged, int]] = []
    staged_all: list[_Staged] = []
    for ticket in group:
        staged = _Staged(
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


def _emit(staged_all: list[_Staged]) -> None:
    """Emit the group's new events in id order, then answer every caller.

    If the queue fails mid-group the rest stay persisted (clients get them on
    replay) and their callers get the 503 that says so.
    """
    owners: list[tuple[int, dict[str, Any], _Staged]] = []
    for staged in staged_all:
        for envelope, duplicate in zip(staged.envelopes, staged.duplicate, strict=True):
            if not duplicate:
                owners.append((envelope["id"], envelope, staged))
    owners.sort(key=lambda item: item[0])
    failed: dict[int, DependencyDown] = {}
    for _id, envelope, staged in owners:
        if id(staged) in failed:
            continue
        try:
            emit_envelope(envelope)
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
