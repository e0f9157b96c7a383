"""The client managers (in-memory and Redis) with the replay gate in their delivery.

``GatedManager`` delivers in one process; ``QueueOrderedGate`` is the part of
``ClusterRedisManager`` that delivers every persisted event once per process, in
the queue's order (``DeliveredIds``). Both ask ``gate.GATE`` before a live event
reaches a connection. Overrides python-socketio's ``Manager.emit`` and
``RedisManager._handle_emit``; checked by tests/unit/test_engine_hooks.py.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import socketio

from webapp import metrics
from webapp.engine.gate import GATE


class GatedManager(socketio.Manager):
    """In-memory client manager whose deliveries pass the replay gate."""

    def emit(  # type: ignore[override]
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Emit, holding back events for connections that are replaying."""
        room = to or room
        skip_sid = GATE.intercept(self, event, data, namespace, room, skip_sid)
        return super().emit(
            event,
            data,
            namespace,
            room=room,
            skip_sid=skip_sid,
            callback=callback,
            **kwargs,
        )


class QueueOrderedGate:
    """Mixin for a pub/sub manager: one delivery order for every process, gated.

    python-socketio delivers to local clients before publishing to Redis; with
    several publishing processes, local clients could then see a higher id before a
    lower one. Here every emit, local ones included, is delivered from the Redis
    subscription, so all processes deliver in the single order Redis imposes, and
    each persisted event once (``remember_deliveries``).
    """

    def emit(  # type: ignore[override]
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Publish to the queue only; the subscription delivers locally too."""
        room = to or room
        if (
            callback is not None
            or kwargs.get("ignore_queue")
            or not isinstance(data, dict)
        ):
            return super().emit(  # type: ignore[misc]
                event,
                data,
                namespace=namespace,
                room=room,
                skip_sid=skip_sid,
                callback=callback,
                **kwargs,
            )
        self._publish(  # type: ignore[attr-defined]
            {
                "method": "emit",
                "event": event,
                "data": [data],
                "binary": False,
                "namespace": namespace or "/",
                "room": room,
                "skip_sid": skip_sid,
                "callback": None,
                "host_id": None,  # not ours: our own listener must deliver it too
            }
        )

    # Highest persisted id this process has delivered (where a catch-up starts).
    delivered_through: int = 0
    delivered: DeliveredIds | None = None

    def remember_deliveries(self, window: int) -> None:
        """Deliver each persisted event once, remembering the last ``window`` ids."""
        self.delivered = DeliveredIds(window)

    def _handle_emit(self, message: dict[str, Any]) -> None:
        data = message.get("data")
        payload = data[0] if isinstance(data, list) and len(data) == 1 else data
        if isinstance(payload, dict) and isinstance(payload.get("id"), int):
            # The same event can arrive twice: a catch-up and then the queue's
            # late copy, or a publish that timed out yet reached Redis.
            if self.delivered is not None and not self.delivered.first_time(
                payload["id"]
            ):
                metrics.dropped(message.get("namespace"), "duplicate")
                return
            self.delivered_through = max(self.delivered_through, payload["id"])
        message = dict(message)
        message["skip_sid"] = GATE.intercept(
            self,
            message["event"],
            payload,
            message.get("namespace"),
            message.get("room"),
            message.get("skip_sid"),
        )
        super()._handle_emit(message)  # type: ignore[misc]

    def catch_up(self, envelopes: list[dict[str, Any]]) -> None:
        """Deliver persisted events this process missed while unsubscribed."""
        for envelope in envelopes:
            self._handle_emit(
                {
                    "method": "emit",
                    "event": envelope["type"],
                    "data": [envelope],
                    "namespace": envelope["namespace"],
                    "room": envelope["room"],
                    "skip_sid": None,
                    "callback": None,
                }
            )


class DeliveredIds:
    """The last ``window`` event ids delivered by this process (O(1) per event)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._ids: set[int] = set()
        self._order: deque[int] = deque()

    def first_time(self, event_id: int) -> bool:
        """Record ``event_id``; False when it was delivered already."""
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids.add(event_id)
            self._order.append(event_id)
            if len(self._order) > self.window:
                self._ids.discard(self._order.popleft())
            return True
