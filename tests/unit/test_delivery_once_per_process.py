"""Each persisted event is delivered once per process, whatever the queue repeats."""

from __future__ import annotations

from typing import Any

from webapp.engine.managers import DeliveredIds, QueueOrderedGate


class Recorder:
    """Stands in for python-socketio's local delivery step."""

    rooms: dict[str, Any] = {}

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def _handle_emit(self, message: dict[str, Any]) -> None:
        self.sent.append(message["data"][0]["id"])


class Gate(QueueOrderedGate, Recorder):
    pass


def message(event_id: int | None) -> dict[str, Any]:
    """A queue message carrying one envelope."""
    envelope = {"id": event_id, "type": "alert", "room": "tenant:1"}
    return {"event": "alert", "data": [envelope], "namespace": "/engagement"}


def test_a_repeated_event_id_is_delivered_once() -> None:
    gate = Gate()
    gate.remember_deliveries(100)
    for event_id in (1, 2, 1, 3, 2, 3):
        gate._handle_emit(message(event_id))
    assert gate.sent == [1, 2, 3]
    assert gate.delivered_through == 3


def test_a_catch_up_then_the_queue_copies_deliver_each_event_once() -> None:
    gate = Gate()
    gate.remember_deliveries(100)
    gate._handle_emit(message(1))
    gate.catch_up(
        [
            {"id": i, "type": "alert", "namespace": "/engagement", "room": "tenant:1"}
            for i in (2, 3)
        ]
    )
    for event_id in (2, 3, 4):  # the queue delivers what the catch-up did
        gate._handle_emit(message(event_id))
    assert gate.sent == [1, 2, 3, 4]


def test_volatile_events_are_never_deduplicated() -> None:
    gate = Gate()
    gate.remember_deliveries(100)
    gate._handle_emit(message(None))
    gate._handle_emit(message(None))
    assert gate.sent == [None, None]


def test_only_the_last_window_of_ids_is_remembered() -> None:
    seen = DeliveredIds(window=2)
    assert [seen.first_time(i) for i in (1, 2, 3)] == [True, True, True]
    assert seen.first_time(3) is False
    assert seen.first_time(1) is True  # forgotten: memory stays bounded
