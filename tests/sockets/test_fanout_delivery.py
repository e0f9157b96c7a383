"""Fan-out delivery: bursts reach many clients complete and in order, any transport.

The server writes emitted packets straight into idle websockets
(webapp/engine/delivery.py) and falls back to engine.io's queue otherwise; these
tests check both routes under eventlet and gevent with real clients, including a
client that stops reading so the kernel takes only part of a frame.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import engineio
import pytest
import requests
import websocket

from tests.support.server import ServerFactory
from tests.support.sockets import (
    SocketFactory,
    SocketRecorder,
    join_engagement,
    open_websocket,
)
from tests.support.world import Api, build_world, publish_alerts

MODES = ["eventlet", "gevent"]
BURST = 300


def counter(url: str, name: str) -> float:
    """The value of a counter without labels from ``/metrics``."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def alert_ids(client: SocketRecorder) -> list[int]:
    """Ids of the alerts a client received, in arrival order."""
    return [envelope["id"] for envelope in client.of("alert", "/engagement")]


def wait_for_ids(client: SocketRecorder, expected: list[int]) -> None:
    """Block until ``client`` has as many alerts as expected (or time out)."""
    client.wait_for("alert", namespace="/engagement", count=len(expected), timeout=60)


@pytest.mark.parametrize("mode", MODES)
def test_a_burst_reaches_websocket_and_polling_clients_complete_and_in_order(
    server_factory: ServerFactory,
    sockets: SocketFactory,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The Python client aborts on a long-polling response of more than 16 packets
    # (a client-side guard; browsers have none); the burst needs more.
    monkeypatch.setattr(engineio.payload.Payload, "max_decode_packets", 100_000)
    server = server_factory(
        {"SOCKETIO_ASYNC_MODE": mode, "MAX_CONNECTIONS_PER_USER": "40"}
    )
    world = build_world(server.url, server.seed)
    token = world.user_a.access_token
    on_websocket = [sockets().connect(server.url, token) for _ in range(12)]
    on_polling = [
        sockets().connect(server.url, token, transports=["polling"]) for _ in range(4)
    ]
    other_tenant = sockets().connect(server.url, world.user_b.access_token)
    for client in [*on_websocket, *on_polling, other_tenant]:
        client.wait_for("welcome", namespace="/engagement")
    direct_before = counter(server.url, "switchboard_fanout_direct_writes_total")

    ids = publish_alerts(server.url, world.key_a, world.tenant_a["id"], BURST)
    # Single publishes interleaved with a second batch: two emit paths at once.
    api = Api(server.url, api_key=world.key_a)
    for n in range(20):
        response = api.post(
            "/api/publish",
            json={
                "namespace": "/engagement",
                "event": "alert",
                "data": {"title": f"single-{n}", "severity": "info"},
                "target": {"tenant": world.tenant_a["id"]},
            },
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    ids += publish_alerts(server.url, world.key_a, world.tenant_a["id"], BURST)

    for client in [*on_websocket, *on_polling]:
        wait_for_ids(client, ids)
        assert alert_ids(client) == ids  # every one, once, in id order
    # Direct writes carried the websocket deliveries (not only the queue).
    direct = counter(server.url, "switchboard_fanout_direct_writes_total")
    assert direct - direct_before >= len(ids)
    time.sleep(0.5)
    assert other_tenant.of("alert") == []  # tenant B saw none of A's burst


def read_alerts(ws: websocket.WebSocket, count: int) -> list[dict[str, Any]]:
    """Read frames until ``count`` alerts arrived; answer pings meanwhile."""
    alerts: list[dict[str, Any]] = []
    while len(alerts) < count:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
        elif frame.startswith("42/engagement,"):
            name, payload = json.loads(frame[len("42/engagement,") :])
            if name == "alert":
                alerts.append(payload)
    return alerts


@pytest.mark.parametrize("mode", MODES)
def test_a_client_that_stops_reading_gets_whole_frames_and_blocks_nobody(
    server_factory: ServerFactory, sockets: SocketFactory, mode: str
) -> None:
    server = server_factory(
        {"SOCKETIO_ASYNC_MODE": mode, "MAX_CONNECTIONS_PER_USER": "40"}
    )
    world = build_world(server.url, server.seed)
    slow = _stalling_client(server.url, world.user_a.access_token)
    try:
        fast = sockets().connect(server.url, world.user_a.access_token)
        fast.wait_for("welcome", namespace="/engagement")
        partial_before = counter(server.url, "switchboard_fanout_partial_writes_total")
        # ~4 KB per event, 6 MB in all: more than the server's socket send
        # buffer (at most 4 MB here) and the slow client's tiny receive buffer hold.
        api = Api(server.url, api_key=world.key_a)
        ids: list[int] = []
        for start in range(0, 1500, 500):
            batch = [
                {
                    "namespace": "/engagement",
                    "event": "alert",
                    "data": {"title": f"big-{n}", "message": "x" * 4000},
                    "target": {"tenant": world.tenant_a["id"]},
                }
                for n in range(start, start + 500)
            ]
            response = api.post("/api/publish/batch", json=batch)
            assert response.status_code == 202, response.text
            ids += [result["id"] for result in response.json()["results"]]

        # The reading client is not held up by the one that is not reading.
        wait_for_ids(fast, ids)
        assert alert_ids(fast) == ids
        # Some frame was cut by the kernel and finished by the writer.
        partial = counter(server.url, "switchboard_fanout_partial_writes_total")
        assert partial > partial_before

        received = read_alerts(slow, len(ids))
        assert [alert["id"] for alert in received] == ids
        assert all(alert["data"]["message"] == "x" * 4000 for alert in received)
    finally:
        slow.close()


def _stalling_client(url: str, token: str) -> websocket.WebSocket:
    """A bare websocket joined to /engagement, with a tiny receive buffer."""
    return join_engagement(open_websocket(url, 30, receive_buffer=4096), token)
