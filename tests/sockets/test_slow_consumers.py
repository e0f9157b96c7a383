"""A client that stops reading is disconnected instead of buffered forever."""

from __future__ import annotations

import time

import websocket

from tests.support.server import ServerFactory
from tests.support.sockets import join_engagement, open_websocket
from tests.support.world import Api, build_world
from webapp.services.delivery.slow_consumers import find_slow_consumers


def test_only_connections_over_a_limit_twice_in_a_row_are_closed() -> None:
    backlogs = {"a": (50, 10), "b": (500, 10), "c": (900, 10), "d": (1, 5000)}
    close, watch = find_slow_consumers(backlogs, (100, 1000), {"c", "d", "x"})
    assert (close, watch) == ({"c", "d"}, {"b"})


def silent_client(url: str, token: str) -> websocket.WebSocket:
    """A raw websocket on /engagement that will never read again."""
    ws = open_websocket(url, receive_buffer=4096)
    return join_engagement(ws, token, wait_for_welcome=False)


def active_connections(url: str) -> int:
    """Socket.IO connections the server holds."""
    return int(Api(url).get("/ws/status").json()["active_connections"])


def test_clients_that_stop_reading_large_events_are_dropped_by_queued_bytes(
    server_factory: ServerFactory,
) -> None:
    live = server_factory(
        {
            "SLOW_CLIENT_QUEUE_LIMIT": "1000000",  # the packet cap never trips
            "SLOW_CLIENT_QUEUE_BYTES": str(256 * 1024),
            "SLOW_CLIENT_CHECK_INTERVAL": "0.5",
        }
    )
    world = build_world(live.url, live.seed)
    clients = [silent_client(live.url, world.user_a.access_token) for _ in range(2)]
    try:
        deadline = time.monotonic() + 10
        while active_connections(live.url) != 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert active_connections(live.url) == 2
        batch = [
            {
                "namespace": "/engagement",
                "event": "alert",
                "data": {"title": "big", "message": "x" * 3900},
                "target": {"tenant": world.tenant_a["id"]},
            }
        ] * 100  # 400 KB a batch, few packets: only the bytes add up
        api = Api(live.url, api_key=world.key_a)
        # Well before the heartbeat (45 s) would drop them.
        deadline = time.monotonic() + 20
        while active_connections(live.url) and time.monotonic() < deadline:
            assert api.post("/api/publish/batch", json=batch).status_code == 202
            time.sleep(0.2)
        assert active_connections(live.url) == 0
        metrics = Api(live.url).get("/metrics").text
        assert "switchboard_slow_consumers_closed_total 2.0" in metrics
    finally:
        for ws in clients:
            ws.shutdown()


def test_a_client_that_stops_reading_is_disconnected(
    server_factory: ServerFactory,
) -> None:
    live = server_factory(
        {"SLOW_CLIENT_QUEUE_LIMIT": "50", "SLOW_CLIENT_CHECK_INTERVAL": "0.5"}
    )
    world = build_world(live.url, live.seed)
    ws = silent_client(live.url, world.user_a.access_token)
    try:
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
