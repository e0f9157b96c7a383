"""Source 001 (session rooms): the connection is accepted, then welcomed.

The old suite checked "connection acceptance, welcome message received" in that
order. With a raw Engine.IO WebSocket the test sees the packets in the order the
server wrote them: the Socket.IO CONNECT acknowledgement must come before
``welcome`` (docs/architecture.md §6: "After connect the server emits
welcome"); a client that answers ``welcome`` with an emit otherwise finds its
namespace not yet connected (python-socketio raises BadNamespaceError).
"""

from __future__ import annotations

import json

import websocket

from tests.support.world import World


def test_the_connection_is_acknowledged_before_the_welcome(world: World) -> None:
    url = (
        world.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    )
    raw = websocket.create_connection(url, timeout=10)
    try:
        assert raw.recv().startswith("0{")
        token = json.dumps({"token": world.user_a.access_token})
        raw.send(f"40/engagement,{token}")
        first, second = raw.recv(), raw.recv()
    finally:
        raw.close()
    assert second.startswith('42/engagement,["welcome",'), second
    assert first.startswith("40/engagement,{"), first
