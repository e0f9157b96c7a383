"""Malformed Socket.IO packets close the connection, logged in one line."""

from __future__ import annotations

import json

import pytest
import websocket

from tests.live import Api, LiveServer, World


@pytest.mark.parametrize(
    "packet",
    [
        "42/engagement,[not json",  # undecodable JSON
        "4Xgarbage",  # unknown Socket.IO packet type
        '42/engagement,{"not": "a list"}',  # an event must be an array
        "40/engagement,[1,2",  # broken CONNECT payload
        "42/engagement,[7,{}]",  # an event name that is not a string
        "42/engagement,[]",  # an event without a name
    ],
)
def test_malformed_packet_closes_the_connection_without_a_traceback(
    world: World, server: LiveServer, packet: str
) -> None:
    tracebacks_before = server.process.log().count("Traceback")
    ws = websocket.create_connection(
        world.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
        timeout=5,
    )
    try:
        ws.recv()  # engine.io OPEN
        ws.send("40/engagement," + json.dumps({"token": world.user_a.access_token}))
        frames = [ws.recv(), ws.recv()]
        assert any(frame.startswith("40/engagement,") for frame in frames)
        ws.send(packet)
        assert ws.recv() == "1"  # engine.io CLOSE, then the server hangs up
    finally:
        ws.shutdown()
    assert Api(world.url).get("/health").status_code == 200
    log = server.process.log()
    assert log.count("Traceback") == tracebacks_before
    assert "malformed Socket.IO packet" in log
