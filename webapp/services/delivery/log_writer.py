"""Group commit: one writer per process persists queued publishes together.

Concurrent publishes hand their validated requests to the process's writer and
wait. The writer takes everything queued (up to ``PUBLISH_GROUP_MAX`` events),
inserts it in one transaction, commits once, then emits the group in id order —
all under the ordering lock (a PostgreSQL advisory lock across processes), taken
once per group instead of once per event. See docs/replay.md. One group's
transaction (idempotency, insert, emit in id order) is ``log_group.py``.

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
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, text

from webapp.errors import DependencyDown
from webapp.extensions import db
from webapp.services.delivery.log_group import (
    Attempt,
    Executor,
    Ticket,
    emit_group,
    persist_group,
)
from webapp.services.delivery.publish_request import PublishRequest, PublishResult
from webapp.services.delivery.write_failures import failure_answer, unknown_outcome

logger = logging.getLogger(__name__)

# Arbitrary constant naming the PostgreSQL advisory lock ("SWBD").
PUBLISH_LOCK_KEY = 0x53574244
EXTENSION = "switchboard.event_log_writer"
LOCK = text("SELECT pg_advisory_lock(:k)")
UNLOCK = text("SELECT pg_advisory_unlock(:k)")
# Longest a publish waits for its group (seconds): a stuck writer (the ordering
# lock held elsewhere, a hung database) answers 503 instead of hanging the caller.
WAIT_TIMEOUT = 30.0
# One writer per process; the inline path (in-memory SQLite, or no group
# commit) shares this lock.
_inline_lock = threading.Lock()


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
                            ticket.finish(None, failure_answer(exc))

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
    attempt = Attempt()
    with ordering(executor):
        try:
            staged = persist_group(group, executor, attempt)
        except Exception as exc:
            if attempt.committed:
                logger.error(
                    "publish group of %d: commit outcome unknown (%s)", len(group), exc
                )
                for ticket in group:
                    if not ticket.done.is_set():
                        ticket.finish(None, unknown_outcome(exc))
                executor.rollback()
                return
            executor.rollback()
            if len(group) == 1:
                group[0].finish(None, failure_answer(exc))
                return
            logger.warning(
                "publish group of %d failed (%s): one by one", len(group), exc
            )
            retry = True
        else:
            for ticket, conflict in attempt.held:  # their claims are committed
                ticket.finish(None, conflict)
            emit_group(staged)
    if retry:
        for ticket in group:
            if not ticket.done.is_set():  # a conflict already answered stays so
                process([ticket], executor)


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
