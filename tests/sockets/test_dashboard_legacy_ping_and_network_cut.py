"""Source 003 (operations dashboard): keep-alive text and network interruptions.

The old dashboard took a raw WebSocket text frame ``ping``; Switchboard's
keep-alive is the acked ``ping`` event (tests/sockets/test_dashboard_protocol.py). A raw
WebSocket that still sends the legacy text is not Engine.IO: it is closed
cleanly and the server keeps serving. A dashboard whose network drops reconnects
by itself and gets a fresh snapshot.
"""

from __future__ import annotations

import threading

import websocket

from tests.support.events import Sockets
from tests.support.netfault import TcpProxy
from tests.support.sockets import SocketRecorder
from tests.support.world import World

DASH = "/dashboard"


def _send_legacy_ping(world: World) -> bytes:
    """Open a raw Engine.IO WebSocket, send the text ``ping``, return what follows.

    Everything the server writes after the text, as raw bytes, until it closes.
    """
    url = (
        world.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    )
    raw = websocket.create_connection(url, timeout=10)
    try:
        assert raw.recv().startswith("0{")  # the Engine.IO handshake
        raw.send("ping")
        received = b""
        while chunk := raw.sock.recv(65536):
            received += chunk
        return received
    finally:
        raw.shutdown()


def test_the_legacy_text_ping_gets_a_clean_close_and_never_a_traceback(
    world: World,
) -> None:
    received = _send_legacy_ping(world)
    assert b"Traceback" not in received
    assert received[:1] == b"\x88", received[:60]  # a WebSocket close frame


def test_a_raw_websocket_sending_the_legacy_text_ping_harms_no_one_else(
    world: World, sockets: Sockets
) -> None:
    watcher = sockets().connect(world.url, world.user_a.access_token, [DASH])
    watcher.wait_for("analytics_update", namespace=DASH)
    _send_legacy_ping(world)  # returns once the server closed that connection
    # The server is unharmed: the watcher still gets its pong and new alerts.
    assert watcher.call("ping", namespace=DASH)["pong"] is True
    response = world.api(world.key_a).post(
        "/api/dashboard/alerts", json={"title": "after legacy ping"}
    )
    assert response.status_code == 201
    watcher.wait_for("alert", lambda e: e["data"]["title"] == "after legacy ping", DASH)
    assert world.api().get("/health").json() == {"status": "ok"}


def test_a_dashboard_reconnects_after_a_network_cut_and_gets_a_fresh_snapshot(
    world: World,
) -> None:
    proxy = TcpProxy(int(world.url.rsplit(":", 1)[1]))
    dashboard = SocketRecorder(
        reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5
    )
    dropped, reconnected = threading.Event(), threading.Event()

    def on_connect() -> None:
        if dropped.is_set():
            reconnected.set()

    dashboard.client.on("disconnect", handler=dropped.set, namespace=DASH)
    dashboard.client.on("connect", handler=on_connect, namespace=DASH)
    try:
        dashboard.connect(proxy.url, world.user_a.access_token, [DASH])
        (first,) = dashboard.wait_for("analytics_update", namespace=DASH)
        assert first["data"]["totals"]["open_alerts"] == 0

        proxy.cut()
        assert dropped.wait(10)
        response = world.api(world.key_a).post(
            "/api/dashboard/alerts", json={"title": "raised while cut off"}
        )
        assert response.status_code == 201
        proxy.restore()

        assert reconnected.wait(20)
        _, fresh = dashboard.wait_for("analytics_update", namespace=DASH, count=2)
        assert fresh["data"]["totals"]["open_alerts"] == 1
        assert dashboard.call("ping", namespace=DASH)["pong"] is True
    finally:
        dashboard.disconnect()
        proxy.close()
