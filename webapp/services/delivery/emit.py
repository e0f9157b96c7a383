"""The one call that emits an event to a room: ``emit_envelope``.

Nothing else in the code base calls ``emit`` for an event; persisted events reach
it from the log writer (in id order), volatile ones from the publisher.
"""

from __future__ import annotations

from typing import Any

from webapp import metrics
from webapp.extensions import get_socketio
from webapp.services.cluster import message_queue
from webapp.services.cluster.message_queue import MessageQueueUnavailable


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
        metrics.dropped(envelope["namespace"], "emit_failed")
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
