"""Replay of missed events to a reconnecting connection.

See docs/replay.md for why this is gap-free: ids are committed and delivered in
id order (publisher.ordered_publish), and live events are held by the replay gate
until the replay has caught up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from webapp import metrics
from webapp.engine.gate import GATE
from webapp.engine.sockets import queued_packets
from webapp.errors import DomainError
from webapp.extensions import db, get_socketio
from webapp.input_guard import MAX_ID
from webapp.models import Event
from webapp.models.time import utcnow
from webapp.services.delivery import to_connection
from webapp.services.delivery.retention import oldest_kept_id

PAGE_SIZE = 200
# Outgoing packets a replay may leave queued for one connection before it waits:
# engine.io sends heartbeats through the same queue, so an unbounded replay would
# delay the PING behind thousands of events and the client would time out.
REPLAY_QUEUE_HIGH_WATER = 64
# How long join_session waits for a connect-time replay of the same connection.
JOIN_WAIT_SECONDS = 30.0


class InvalidLastEventId(DomainError):
    """``last_event_id`` is not a non-negative integer."""

    code = "invalid_last_event_id"


def parse_last_event_id(raw: Any) -> int | None:
    """``None`` when absent; an int in 0..2**63-1; anything else is an error."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_ID:
        raise InvalidLastEventId(
            "last_event_id must be an integer from 0 to 9223372036854775807"
        )
    return raw


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay will do: how many events, or why it cannot."""

    recoverable: bool
    count: int
    reason: str | None = None


def plan_replay(namespace: str, rooms: list[str], last_event_id: int) -> ReplayPlan:
    """Check the window: never replay part of a gap."""
    latest = db.session.scalar(select(func.max(Event.id))) or 0
    if last_event_id > latest:
        return ReplayPlan(False, 0, "last_event_id_ahead")
    oldest_kept = oldest_kept_id()
    if oldest_kept is not None and last_event_id < oldest_kept - 1:
        return ReplayPlan(False, 0, "pruned")
    missed = select(Event.id, Event.created_at).where(
        Event.namespace == namespace, Event.room.in_(rooms), Event.id > last_event_id
    )
    count = db.session.scalar(select(func.count()).select_from(missed.subquery())) or 0
    if count == 0:
        return ReplayPlan(True, 0)
    if count > current_app.config["REPLAY_MAX_EVENTS"]:
        return ReplayPlan(False, count, "too_many_events")
    first_created = db.session.scalar(
        select(Event.created_at)
        .where(
            Event.namespace == namespace,
            Event.room.in_(rooms),
            Event.id > last_event_id,
        )
        .order_by(Event.id)
        .limit(1)
    )
    max_age = timedelta(seconds=current_app.config["REPLAY_MAX_AGE"])
    if first_created is not None and _aware(first_created) < utcnow() - max_age:
        return ReplayPlan(False, count, "too_old")
    return ReplayPlan(True, count)


def _aware(value: Any) -> Any:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def wait_for_drain(sid: str, namespace: str) -> bool:
    """Yield until the connection's outgoing queue is short; False if it is gone."""
    sio = get_socketio()
    while True:
        queued = queued_packets(sio, sid, namespace)
        if queued is None:
            return False
        if queued <= REPLAY_QUEUE_HIGH_WATER:
            break
        sio.sleep(0.005)
    sio.sleep(0)  # let heartbeats and other clients through
    return queued_packets(sio, sid, namespace) is not None


def open_gate(sid: str, namespace: str) -> int:
    """Send the live events held for ``sid``, then let live events through.

    Loops until nothing is left, so no live event can overtake the held ones.
    Returns the highest id sent (0 if none).
    """
    manager = get_socketio().manager
    highest = 0
    while True:
        pending = GATE.drain(sid)
        if not pending:
            return highest
        for event_name, envelope in pending:
            to_connection.send_live(manager, sid, namespace, event_name, envelope)
            highest = max(highest, envelope["id"])


def replay_connection(
    sid: str, namespace: str, rooms: list[str], last_event_id: int
) -> dict[str, Any]:
    """Replay at connect: missed events of ``rooms``, then ``replay_complete``.

    The connection's gate must already be held (``GATE.hold``) before it entered
    the rooms. Returns the ``replay_complete`` payload, which is also sent.
    """
    complete = replay_rooms(sid, namespace, rooms, last_event_id)
    to_connection.send_to_connection(sid, namespace, "replay_complete", complete)
    return complete


def replay_into_room(
    sid: str,
    namespace: str,
    room: str,
    last_event_id: int,
    enter_room: Callable[[], None],
) -> dict[str, Any]:
    """Enter ``room`` and replay what it missed there (``join_session``).

    Waits for a connect-time replay of the same connection to finish first, so
    the two never interleave; returns the summary that goes into the ack.
    """
    sio = get_socketio()
    deadline = time.monotonic() + JOIN_WAIT_SECONDS
    while GATE.is_held(sid) and time.monotonic() < deadline:
        sio.sleep(0.02)
    if GATE.is_held(sid):
        raise DomainError("a replay is still running; join again", code="busy")
    only_room = frozenset({room})
    GATE.hold(sid, namespace, last_event_id, covered=only_room, rooms=only_room)
    try:
        enter_room()
        return replay_rooms(sid, namespace, [room], last_event_id)
    except Exception:
        GATE.abandon_replay(sid)
        open_gate(sid, namespace)  # never leave the room held
        raise


def replay_rooms(
    sid: str, namespace: str, rooms: list[str], last_event_id: int
) -> dict[str, Any]:
    """Send missed events of ``rooms`` to ``sid`` in id order, then open its gate."""
    started = time.perf_counter()  # for the replay duration metric
    manager = get_socketio().manager
    plan = plan_replay(namespace, rooms, last_event_id)
    sent = 0
    cursor = last_event_id
    if not plan.recoverable:
        GATE.abandon_replay(sid)  # deliver every held event: none was replayed
    if plan.recoverable:
        while GATE.is_held(sid):
            page = list(
                db.session.scalars(
                    select(Event)
                    .where(
                        Event.namespace == namespace,
                        Event.room.in_(rooms),
                        Event.id > cursor,
                    )
                    .order_by(Event.id)
                    .limit(PAGE_SIZE)
                )
            )
            # Envelopes first: the rollback expires the rows (one query each after).
            envelopes = [event.envelope() for event in page]
            db.session.rollback()  # end the read transaction; don't pin a snapshot
            if not envelopes:
                break
            for envelope in envelopes:
                to_connection.send_replayed(manager, sid, namespace, envelope)
                cursor = envelope["id"]
            GATE.advance(sid, cursor)
            sent += len(envelopes)
            if not wait_for_drain(sid, namespace):
                break  # the connection went away

    cursor = max(cursor, open_gate(sid, namespace))
    metrics.replayed(namespace, sent, started)
    summary: dict[str, Any] = {
        "count": sent,
        "last_event_id": cursor if plan.recoverable else last_event_id,
        "recovered": plan.recoverable,
    }
    if plan.reason:
        summary["reason"] = plan.reason
    return summary


def event_log_reader(
    app: Flask,
) -> tuple[Callable[[], int], Callable[[int], list[dict[str, Any]]]]:
    """Functions the message-queue listener uses to catch up after a Redis gap."""

    def latest() -> int:
        with app.app_context():
            return int(db.session.scalar(select(func.max(Event.id))) or 0)

    def missed(after_id: int) -> list[dict[str, Any]]:
        limit = app.config["REPLAY_MAX_EVENTS"] + 1  # one more: "too many" shows
        with app.app_context():
            rows = db.session.scalars(
                select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
            )
            return [event.envelope() for event in rows]

    return latest, missed
