"""Unit tests of the replay gate (in-process)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from webapp.engine.gate import ReplayGate


def _manager(room: str, *sids: str) -> Any:
    return SimpleNamespace(rooms={"/engagement": {room: {sid: "eio" for sid in sids}}})


def test_live_events_for_a_held_connection_are_buffered_and_skipped() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10, covered=frozenset({"tenant:1"}))
    manager = _manager("tenant:1", "a", "b")
    skip = gate.intercept(manager, "alert", {"id": 11}, "/engagement", "tenant:1", None)
    assert skip == [None, "a"]
    assert gate.drain("a") == [("alert", {"id": 11})]
    assert gate.drain("a") == []
    assert not gate.is_held("a")


def test_drain_drops_ids_already_replayed_and_keeps_order() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10, covered=frozenset({"tenant:1"}))
    manager = _manager("tenant:1", "a")
    for event_id in (14, 12, 13):
        gate.intercept(
            manager,
            "alert",
            {"id": event_id, "room": "tenant:1"},
            "/engagement",
            "tenant:1",
            None,
        )
    gate.advance("a", 12)
    assert [data["id"] for _, data in gate.drain("a")] == [13, 14]


def test_drain_opens_the_gate_when_only_duplicates_are_buffered() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10, covered=frozenset({"tenant:1"}))
    envelope = {"id": 11, "room": "tenant:1"}
    gate.intercept(
        _manager("tenant:1", "a"), "alert", envelope, "/engagement", "tenant:1", None
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


def test_a_room_limited_hold_lets_other_rooms_through() -> None:
    gate = ReplayGate()
    session = frozenset({"session:1"})
    gate.hold("a", "/engagement", 5, covered=session, rooms=session)
    manager = SimpleNamespace(
        rooms={"/engagement": {"session:1": {"a": "e"}, "tenant:1": {"a": "e"}}}
    )
    skip = gate.intercept(manager, "alert", {"id": 7}, "/engagement", "tenant:1", None)
    assert skip is None or "a" not in skip  # delivered live
    skip = gate.intercept(
        manager, "session_message", {"id": 8}, "/engagement", "session:1", None
    )
    assert "a" in skip  # held for the session replay
    assert gate.drain("a") == [("session_message", {"id": 8})]


def test_after_a_replay_a_late_duplicate_from_the_queue_is_dropped() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10, covered=frozenset({"tenant:1"}))
    gate.advance("a", 20)  # the replay sent 11..20 from the log
    assert gate.drain("a") == []  # gate open
    manager = _manager("tenant:1", "a")
    late = gate.intercept(manager, "alert", {"id": 20}, "/engagement", "tenant:1", None)
    assert "a" in late  # already replayed: not sent twice
    fresh = gate.intercept(
        manager, "alert", {"id": 21}, "/engagement", "tenant:1", None
    )
    assert fresh is None or "a" not in fresh
    again = gate.intercept(
        manager, "alert", {"id": 22}, "/engagement", "tenant:1", None
    )
    assert again is None or "a" not in again


def _envelope(event_id: int, room: str) -> dict[str, object]:
    return {"id": event_id, "room": room}


def test_held_events_of_rooms_the_replay_does_not_cover_are_never_dropped() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10, covered=frozenset({"tenant:1"}))
    manager = SimpleNamespace(
        rooms={"/engagement": {"tenant:1": {"a": "e"}, "session:9": {"a": "e"}}}
    )
    gate.intercept(
        manager, "m", _envelope(12, "session:9"), "/engagement", "session:9", None
    )
    gate.intercept(
        manager, "x", _envelope(13, "tenant:1"), "/engagement", "tenant:1", None
    )
    gate.advance("a", 13)  # the replay of tenant:1 went past the session message
    assert [data["id"] for _, data in gate.drain("a")] == [12]
    assert gate.drain("a") == []


def test_an_abandoned_replay_drops_nothing_and_sets_no_floor() -> None:
    gate = ReplayGate()
    gate.hold("a", "/engagement", 10**9, covered=frozenset({"tenant:1"}))
    manager = _manager("tenant:1", "a")
    gate.intercept(
        manager, "x", _envelope(4, "tenant:1"), "/engagement", "tenant:1", None
    )
    gate.abandon_replay("a")  # last_event_id ahead of the log: nothing replayed
    assert [data["id"] for _, data in gate.drain("a")] == [4]
    assert gate.drain("a") == []
    live = gate.intercept(
        manager, "x", _envelope(5, "tenant:1"), "/engagement", "tenant:1", None
    )
    assert live is None or "a" not in live
