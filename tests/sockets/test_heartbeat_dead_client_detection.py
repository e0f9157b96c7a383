"""Sources 002 and 003: heartbeat (ping/pong) and dead-client detection.

A dedicated server with PING_INTERVAL=1 and PING_TIMEOUT=1. A raw Engine.IO
WebSocket client (no Socket.IO library, so the test controls every pong) answers
the server's pings and stays connected; when it stops answering, the server drops
it within ping_interval + ping_timeout and forgets its connections.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import websocket

from tests.conftest import LiveServer
from tests.support.sockets import SocketRecorder
from tests.support.world import World, build_world

INTERVAL, TIMEOUT = 1.0, 1.0
HEARTBEAT = {"PING_INTERVAL": "1", "PING_TIMEOUT": "1"}
# Scheduling slack on a loaded 2-core machine; the measurement is printed.
GRACE = 1.5


class RawEngineIO:
    """An Engine.IO v4 WebSocket speaking the Socket.IO packet format by hand."""

    def __init__(self, url: str) -> None:
        ws_url = (
            url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        )
        self.ws = websocket.create_connection(ws_url, timeout=10)
        kind, body = self.recv()
        assert kind == "0", (kind, body)
        self.handshake = json.loads(body)

    def recv(self) -> tuple[str, str]:
        """The next text frame as (engine.io packet type, rest)."""
        frame = self.ws.recv()
        assert isinstance(frame, str) and frame, frame
        return frame[0], frame[1:]

    def join(self, namespace: str, token: str) -> dict[str, Any]:
        """Socket.IO CONNECT to ``namespace``; return the ``welcome`` payload.

        The server emits ``welcome`` from its connect handler, so it may precede
        the CONNECT acknowledgement (Socket.IO clients buffer it); accept both.
        """
        self.ws.send(f"40{namespace},{json.dumps({'token': token})}")
        events: dict[str, Any] = {}
        while "welcome" not in events or "connected" not in events:
            kind, body = self.recv()
            assert kind == "4", (kind, body)
            if body.startswith(f"0{namespace},"):
                events["connected"] = json.loads(body.split(",", 1)[1])
            else:
                assert body.startswith(f"2{namespace},"), body
                name, payload = json.loads(body.split(",", 1)[1])
                events[name] = payload
        return dict(events["welcome"])

    def close(self) -> None:
        """Close the WebSocket and its socket (even if the server closed first)."""
        try:
            self.ws.close(timeout=1)
        finally:
            self.ws.shutdown()

    def wait_for_ping(self) -> float:
        """Block until the server's next PING (skipping messages); return when."""
        kind, body = self.recv()
        while kind == "4":  # a Socket.IO message (e.g. a snapshot), not a ping
            kind, body = self.recv()
        assert (kind, body) == ("2", ""), (kind, body)
        return time.monotonic()

    def wait_for_close(self, limit: float) -> float:
        """Read (and ignore pings) until the server closes; return when it did."""
        deadline = time.monotonic() + limit
        self.ws.settimeout(limit)
        while time.monotonic() < deadline:
            try:
                frame = self.ws.recv()
            except websocket.WebSocketConnectionClosedException:
                return time.monotonic()
            if not frame:
                return time.monotonic()
        raise AssertionError(f"the server kept the connection open for {limit} s")


def _connections(world: World, tenant_id: int) -> int:
    stats = world.api(world.msp_user).get("/ws/stats").json()
    return int(stats["tenants"][str(tenant_id)]["total"])


def test_answered_pings_keep_a_client_alive_and_a_silent_one_is_dropped_in_time(
    server_factory: Callable[..., LiveServer],
    sockets: Callable[..., SocketRecorder],
) -> None:
    server = server_factory(HEARTBEAT)
    world = build_world(server.url, server.seed)
    # A real Socket.IO client that answers pings by itself, watching throughout.
    healthy = sockets().connect(world.url, world.user_b.access_token, ["/dashboard"])
    (welcome,) = healthy.wait_for("welcome", namespace="/dashboard")
    assert welcome["heartbeat"] == {"interval": 1000, "timeout": 1000}

    raw = RawEngineIO(world.url)
    try:
        _heartbeat_checks(world, raw, healthy)
    finally:
        raw.close()


def _heartbeat_checks(world: World, raw: RawEngineIO, healthy: SocketRecorder) -> None:
    a = world.tenant_a["id"]
    assert raw.handshake["pingInterval"] == 1000
    assert raw.handshake["pingTimeout"] == 1000
    for namespace in ("/events", "/dashboard"):
        assert raw.join(namespace, world.user_a.access_token)["heartbeat"] == {
            "interval": 1000,
            "timeout": 1000,
        }
    assert _connections(world, a) == 2

    # Ping/pong: the server pings every interval; answered, the connection lives.
    pings = []
    for _ in range(3):
        pings.append(raw.wait_for_ping())
        raw.ws.send("3")
    gaps = [round(b - a_, 2) for a_, b in zip(pings, pings[1:], strict=False)]
    print(f"\nping gaps with PING_INTERVAL=1: {gaps} s")
    assert all(gap >= INTERVAL * 0.8 for gap in gaps), gaps
    assert _connections(world, a) == 2

    # Silence: the next ping goes unanswered and the server closes the socket.
    last_pong = time.monotonic()
    closed = raw.wait_for_close(limit=INTERVAL + TIMEOUT + 5)
    elapsed = closed - last_pong
    print(f"silent client dropped {elapsed:.2f} s after its last pong")
    assert elapsed <= INTERVAL + TIMEOUT + GRACE, elapsed

    # Its namespace connections are gone from the counts; the healthy one stays.
    deadline = time.monotonic() + 5
    while _connections(world, a) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _connections(world, a) == 0
    assert healthy.client.connected
    assert healthy.call("ping", namespace="/dashboard")["pong"] is True
