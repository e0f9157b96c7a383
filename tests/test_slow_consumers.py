"""A client that stops reading is disconnected instead of buffered forever."""

from __future__ import annotations

import json
import time

import websocket

from tests.live import Api, ServerFactory, build_world
from webapp.services.slow_consumers import find_slow_consumers


def test_only_connections_over_the_limit_twice_in_a_row_are_closed() -> None:
    close, watch = find_slow_consumers({"a": 50, "b": 500, "c": 900}, 100, {"c", "x"})
    assert (close, watch) == ({"c"}, {"b"})


def test_a_client_that_stops_reading_is_disconnected(
    server_factory: ServerFactory,
) -> None:
    live = server_factory(
        {"SLOW_CLIENT_QUEUE_LIMIT": "50", "SLOW_CLIENT_CHECK_INTERVAL": "0.5"}
    )
    world = build_world(live.url, live.seed)
    ws = websocket.create_connection(
        live.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
        timeout=10,
    )
    ws.sock.setsockopt(
        __import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096
    )
    try:
        ws.recv()
        ws.send("40/engagement," + json.dumps({"token": world.user_a.access_token}))
        before = Api(live.url).get("/ws/status").json()["active_connections"]
        assert before == 1
        # The client reads nothing more while big events pile up for it.
        batch = [
            {
                "namespace": "/engagement",
                "event": "alert",
                "data": {"title": "big", "message": "x" * 3900},
                "target": {"tenant": world.tenant_a["id"]},
            }
        ] * 500
        for _ in range(8):  # ~16 MB: more than the kernel's socket buffers
            response = Api(live.url, api_key=world.key_a).post(
                "/api/publish/batch", json=batch
            )
            assert response.status_code == 202
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if Api(live.url).get("/ws/status").json()["active_connections"] == 0:
                break
            time.sleep(0.2)
        assert Api(live.url).get("/ws/status").json()["active_connections"] == 0
        metrics = Api(live.url).get("/metrics").text
        assert "switchboard_slow_consumers_closed_total 1.0" in metrics
    finally:
        ws.shutdown()
