"""The replay gate: holds live events for a connection while its replay runs.

A reconnecting client must get missed events, then live ones, each exactly once and
in id order. While a connection replays, live persisted events addressed to its
rooms are buffered here instead of being sent; when the replay has caught up, the
buffer is flushed (skipping ids the replay already sent) and the gate opens.

The gate sits in the client manager's local delivery step, so it works the same on
one process (``Manager.emit``) and on many (``RedisManager._handle_emit``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import socketio


@dataclass
class HeldConnection:
    """A connection whose live events are being held."""

    namespace: str
    buffer: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Ids at or below this, in the ``covered`` rooms, reached the client by replay
    # (or it had them already): held copies of them are dropped.
    replayed_through: int = 0
    covered: frozenset[str] = frozenset()
    rooms: frozenset[str] | None = None  # rooms held; None: every room
    replayed: bool = False


@dataclass(frozen=True)
class Floor:
    """After a replay: a late queue copy of a replayed event is dropped."""

    through: int
    covered: frozenset[str]


class ReplayGate:
    """Per-process registry of connections that are replaying."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, HeldConnection] = {}
        # With a message queue, an event the replay read from the log may still
        # arrive live after the gate opened; floors drop those copies.
        self._floors: dict[str, Floor] = {}

    def hold(
        self,
        sid: str,
        namespace: str,
        last_event_id: int | None = None,
        covered: frozenset[str] = frozenset(),
        rooms: frozenset[str] | None = None,
    ) -> None:
        """Start buffering live events for ``sid`` (call before it enters rooms).

        ``covered`` are the rooms a replay from ``last_event_id`` will cover;
        ``rooms`` limits the hold to those rooms (a session joined with replay),
        so events of the connection's other rooms keep flowing.
        """
        with self._lock:
            self._held[sid] = HeldConnection(
                namespace,
                replayed_through=last_event_id or 0,
                covered=covered if last_event_id is not None else frozenset(),
                rooms=rooms,
            )

    def advance(self, sid: str, event_id: int) -> None:
        """Record that the replay sent ``event_id``."""
        with self._lock:
            held = self._held.get(sid)
            if held is not None:
                held.replayed_through = max(held.replayed_through, event_id)
                held.replayed = True

    def abandon_replay(self, sid: str) -> None:
        """Nothing will be replayed (gap too large): drop no held event."""
        with self._lock:
            held = self._held.get(sid)
            if held is not None:
                held.covered = frozenset()

    def drain(self, sid: str) -> list[tuple[str, dict[str, Any]]]:
        """Take buffered events not yet sent, in id order; open the gate if none.

        The caller sends what it gets and calls ``drain`` again until it returns an
        empty list: only then is the gate open, so nothing can overtake the buffer.
        """
        with self._lock:
            held = self._held.get(sid)
            if held is None:
                return []
            pending = sorted(held.buffer, key=lambda item: item[1]["id"])
            held.buffer = []
            fresh = [
                item
                for item in pending
                if item[1].get("room") not in held.covered
                or item[1]["id"] > held.replayed_through
            ]
            if not fresh:
                # Nothing left to send: open the gate while still holding the lock.
                del self._held[sid]
                if held.replayed:
                    self._floors[sid] = Floor(held.replayed_through, held.covered)
                return []
            for _event, envelope in fresh:
                if envelope.get("room") in held.covered:
                    held.replayed_through = max(held.replayed_through, envelope["id"])
            return fresh

    def release(self, sid: str) -> None:
        """Forget ``sid`` (it disconnected)."""
        with self._lock:
            self._held.pop(sid, None)
            self._floors.pop(sid, None)

    def is_held(self, sid: str) -> bool:
        """True while ``sid`` is replaying."""
        with self._lock:
            return sid in self._held

    def intercept(
        self,
        manager: socketio.Manager,
        event: str,
        data: Any,
        namespace: str | None,
        room: Any,
        skip_sid: Any,
    ) -> Any:
        """Buffer a live persisted event for held connections; return new skip list."""
        if not (self._held or self._floors) or not isinstance(data, dict):
            return skip_sid
        event_id = data.get("id")
        if not isinstance(event_id, int) or data.get("replayed"):
            return skip_sid
        namespace = namespace or "/"
        if not isinstance(room, str):
            return skip_sid
        participants = manager.rooms.get(namespace, {}).get(room)
        if not participants:
            return skip_sid
        skipped = list(skip_sid) if isinstance(skip_sid, list) else [skip_sid]
        with self._lock:
            for sid, held in self._held.items():
                if (
                    held.namespace == namespace
                    and sid in participants
                    and sid != room
                    and (held.rooms is None or room in held.rooms)
                ):
                    held.buffer.append((event, data))
                    skipped.append(sid)
            for sid in [sid for sid in self._floors if sid in participants]:
                floor = self._floors[sid]
                if room not in floor.covered:
                    continue
                if event_id <= floor.through:
                    skipped.append(sid)  # the replay already sent it
                else:
                    del self._floors[sid]  # the queue has moved past the replay
        return skipped


GATE = ReplayGate()
