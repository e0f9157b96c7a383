"""Real Socket.IO clients for the tests: recorders, refusals, raw websockets.

``SocketRecorder`` is a ``socketio.Client`` that records every event it receives;
``ResumingClient`` reconnects with ``last_event_id``; ``open_websocket`` speaks raw
engine.io for the wire-level tests.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import socketio
import websocket

from tests.support.engine_client import OrderedClient

NAMESPACES = ("/engagement", "/events", "/system", "/dashboard")


class SocketRecorder:
    """A real ``socketio.Client`` that records every event on every namespace."""

    def __init__(self, reconnection: bool = False, **client_kwargs: Any) -> None:
        self.client = OrderedClient(reconnection=reconnection, **client_kwargs)
        self.events: list[tuple[str, str, Any]] = []  # (namespace, event, data)
        # Indexed by event name so waits stay cheap while thousands arrive.
        self.by_event: dict[str, list[tuple[str, Any]]] = {}
        self._cond = threading.Condition()
        self.connect_errors: list[Any] = []
        for namespace in NAMESPACES:
            self._attach(namespace)

    def _attach(self, namespace: str) -> None:
        @self.client.on("*", namespace=namespace)
        def _any(event: str, *args: Any) -> None:
            self._record(namespace, event, args[0] if args else None)

        @self.client.on("connect_error", namespace=namespace)
        def _error(data: Any) -> None:
            with self._cond:
                self.connect_errors.append(data)
                self._cond.notify_all()

    def _record(self, namespace: str, event: str, data: Any) -> None:
        with self._cond:
            self.events.append((namespace, event, data))
            self.by_event.setdefault(event, []).append((namespace, data))
            self._cond.notify_all()

    def connect(
        self,
        url: str,
        token: str | None,
        namespaces: tuple[str, ...] | list[str] = ("/engagement",),
        auth: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        transports: list[str] | None = None,
        wait_timeout: float = 10,
    ) -> SocketRecorder:
        """Connect with ``{"token": token, **auth}``."""
        if callable(auth):
            payload: Any = auth
        else:
            payload = {"token": token, **(auth or {})} if token is not None else auth
        self.client.connect(
            url,
            namespaces=list(namespaces),
            auth=payload,
            transports=transports or ["websocket"],
            wait_timeout=wait_timeout,
        )
        return self

    def of(self, event: str, namespace: str | None = None) -> list[Any]:
        """Payloads received for ``event`` (optionally on one namespace)."""
        with self._cond:
            return [
                data
                for ns, data in self.by_event.get(event, [])
                if namespace is None or ns == namespace
            ]

    def wait_for(
        self,
        event: str,
        predicate: Callable[[Any], bool] = lambda _data: True,
        namespace: str | None = None,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[Any]:
        """Block until ``count`` matching events arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matches = [
                    data
                    for ns, data in self.by_event.get(event, [])
                    if (namespace is None or ns == namespace) and predicate(data)
                ]
                if len(matches) >= count:
                    return matches
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting for {count} x {event!r}; got "
                        f"{[(ns, name) for ns, name, _ in self.events][-20:]}"
                    )
                self._cond.wait(remaining)

    def call(
        self,
        event: str,
        data: Any = None,
        namespace: str = "/engagement",
        timeout: float = 10,
    ) -> Any:
        """Emit and wait for the acknowledgement."""
        return self.client.call(event, data, namespace=namespace, timeout=timeout)

    def disconnect(self) -> None:
        """Disconnect if connected."""
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - already gone is fine
            pass


def connect_refusal(url: str, auth: Any, namespace: str = "/engagement") -> Any:
    """Try to connect; return the ``connect_error`` payload (fail if it connects)."""
    recorder = SocketRecorder()
    try:
        recorder.client.connect(
            url,
            namespaces=[namespace],
            auth=auth,
            transports=["websocket"],
            wait_timeout=5,
        )
    except socketio.exceptions.ConnectionError:
        pass
    else:
        recorder.disconnect()
        raise AssertionError("the connection was accepted")
    finally:
        recorder.disconnect()
    assert recorder.connect_errors, "no connect_error received"
    return recorder.connect_errors[0]


class ResumingClient(SocketRecorder):
    """A reconnecting client that resumes from the last event id it has seen.

    This is the Python twin of the socket.io-client snippet in docs/replay.md:
    ``auth`` is a callable, so every reconnection attempt sends the latest id.
    """

    def __init__(self, token: str, last_event_id: int | None = None, **kwargs: Any):
        kwargs.setdefault("reconnection_delay", 0.5)
        kwargs.setdefault("reconnection_delay_max", 1)
        super().__init__(reconnection=True, **kwargs)
        self.token = token
        self.last_event_id = last_event_id
        self.ids: list[int] = []
        self.client.on("*", handler=self._track, namespace="/engagement")

    def auth(self) -> dict[str, Any]:
        """Sent on every connection attempt."""
        payload: dict[str, Any] = {"token": self.token}
        if self.last_event_id is not None:
            payload["last_event_id"] = self.last_event_id
        return payload

    def _track(self, event: str, *args: Any) -> None:
        data = args[0] if args else None
        with self._cond:
            if isinstance(data, dict) and isinstance(data.get("id"), int):
                self.ids.append(data["id"])
                self.last_event_id = max(self.last_event_id or 0, data["id"])
        self._record("/engagement", event, data)

    def wait_for_ids(self, expected: list[int], timeout: float = 30) -> None:
        """Block until every id in ``expected`` was received."""
        wanted = set(expected)
        highest = max(wanted, default=0)
        deadline = time.monotonic() + timeout
        with self._cond:
            # Ids arrive in order: wait for the highest, then check them all once.
            while (self.last_event_id or 0) < highest or not wanted.issubset(self.ids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = sorted(wanted - set(self.ids))
                    raise AssertionError(f"missing {len(missing)} ids: {missing[:20]}")
                self._cond.wait(remaining)


SocketFactory = Callable[..., SocketRecorder]


def resume(
    sockets: SocketFactory,
    url: str,
    token: str,
    last_event_id: int,
    namespace: str = "/engagement",
) -> tuple[SocketRecorder, dict[str, Any]]:
    """Connect with ``last_event_id``; return the client and its replay_complete."""
    client = sockets().connect(
        url, token, [namespace], auth={"last_event_id": last_event_id}
    )
    return client, dict(client.wait_for("replay_complete", namespace=namespace)[0])


def open_websocket(
    url: str, timeout: float = 10, receive_buffer: int | None = None
) -> websocket.WebSocket:
    """A raw engine.io websocket (no Socket.IO client), past the OPEN packet.

    ``receive_buffer`` shrinks the client's socket buffer before connecting, so a
    client that stops reading backs up the server quickly.
    """
    options = (
        [(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)]
        if receive_buffer
        else []
    )
    ws = websocket.create_connection(
        url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        sockopt=options,
        timeout=timeout,
    )
    assert ws.recv().startswith("0")  # engine.io OPEN
    return ws


def join_engagement(
    ws: websocket.WebSocket, token: str, wait_for_welcome: bool = True
) -> websocket.WebSocket:
    """Connect /engagement on a raw websocket; by default wait for ``welcome``."""
    ws.send("40/engagement," + json.dumps({"token": token}))
    while wait_for_welcome:
        frame = ws.recv()
        if frame.startswith("42/engagement,") and '"welcome"' in frame:
            break
    return ws
