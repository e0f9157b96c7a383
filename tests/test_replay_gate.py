"""Unit tests of the replay gate (in-process)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from webapp.realtime.gate import ReplayGate


def _manager(room: str, *sids: str) -> Any:
    return SimpleNamespace(rooms={"/engagement": {room: {sid: "eio" for sid in sids}}})


def test_live_events_for_a_held_connection_are_buffered_and_skipped() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10)
    manager = _manager("tenant:1", "a", "b")
    skip = gate.intercept(manager, "alert", {"id": 11}, "/engagement", "tenant:1", None)
    assert skip == [None, "a"]
    assert gate.drain("a") == [("alert", {"id": 11})]
    assert gate.drain("a") == []
    assert not gate.is_held("a")


def test_drain_drops_ids_already_replayed_and_keeps_order() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10)
    manager = _manager("tenant:1", "a")
    for event_id in (14, 12, 13):
        gate.intercept(
            manager, "alert", {"id": event_id}, "/engagement", "tenant:1", None
        )
    gate.advance("a", 12)
    assert [data["id"] for _, data in gate.drain("a")] == [13, 14]


def test_drain_opens_the_gate_when_only_duplicates_are_buffered() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10)
    gate.intercept(
        _manager("tenant:1", "a"), "alert", {"id": 11}, "/engagement", "tenant:1", None
    )
    gate.advance("a", 11)
    assert gate.drain("a") == []
    assert not gate.is_held("a")


def test_volatile_replayed_and_other_namespace_events_pass_through() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 0)
    manager = _manager("tenant:1", "a")
    assert (
        gate.intercept(manager, "x", {"id": None}, "/engagement", "tenant:1", None)
        is None
    )
    assert (
        gate.intercept(
            manager, "x", {"id": 3, "replayed": True}, "/engagement", "tenant:1", None
        )
        is None
    )
    assert gate.intercept(manager, "x", {"id": 3}, "/events", "tenant:1", None) is None
    assert gate.drain("a") == []
