"""Malformed packets close the connection, logged in one line, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import websocket

from tests.support.server import LiveServer
from tests.support.sockets import SocketRecorder, open_websocket
from tests.support.world import Api, World
from webapp.engine.packets import packet_problem, payload_problem


def connect_engagement(ws: websocket.WebSocket, token: str) -> None:
    """Connect /engagement on a raw websocket and wait for the CONNECT answer."""
    ws.send("40/engagement," + json.dumps({"token": token}))
    frames = [ws.recv(), ws.recv()]
    assert any(frame.startswith("40/engagement,") for frame in frames)


def read_until_closed(ws: websocket.WebSocket) -> list[str]:
    """Every frame until the server closes the connection (fails on a timeout)."""
    frames = []
    try:
        while True:
            frame = ws.recv()
            if frame == "":  # the websocket close frame
                break
            frames.append(frame)
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass  # closed, possibly while websocket-client answered the close
    return frames


def new_lines(server: LiveServer, before: str) -> str:
    """What the server logged since ``before`` was read."""
    return server.process.log()[len(before) :]


def metric(url: str, name: str) -> float:
    """The value of an unlabelled counter on /metrics."""
    for line in Api(url).get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


@pytest.mark.parametrize(
    "packet",
    [
        "42/engagement,[not json",  # undecodable JSON
        "4Xgarbage",  # unknown Socket.IO packet type
        '42/engagement,{"not": "a list"}',  # an event must be an array
        "40/engagement,[1,2",  # broken CONNECT payload
        "42/engagement,[7,{}]",  # an event name that is not a string
        "42/engagement,[]",  # an event without a name
        "42/engagement," + "[" * 10000 + "]" * 10000,  # too deep to decode
    ],
)
def test_malformed_packet_closes_the_connection_without_a_traceback(
    world: World, server: LiveServer, packet: str
) -> None:
    before = server.process.log()
    ws = open_websocket(world.url)
    try:
        connect_engagement(ws, world.user_a.access_token)
        ws.send(packet)
        assert ws.recv() == "1"  # engine.io CLOSE, then the server hangs up
    finally:
        ws.shutdown()
    assert Api(world.url).get("/health").status_code == 200
    log = new_lines(server, before)
    assert "Traceback" not in log
    assert log.count("closing ") == 1, log


def test_a_flood_of_malformed_packets_is_logged_once(
    world: World, server: LiveServer
) -> None:
    before = server.process.log()
    malformed_before = metric(world.url, "switchboard_malformed_packets_total")
    ws = open_websocket(world.url)
    connect_engagement(ws, world.user_a.access_token)
    # All 200 in one write, so they reach the server before it closes.
    frames = b"".join(
        websocket.ABNF.create_frame(f"42/engagement,[oops {n}", 1).format()
        for n in range(200)
    )
    ws.sock.sendall(frames)
    read_until_closed(ws)
    ws.shutdown()
    assert Api(world.url).get("/health").status_code == 200
    log = new_lines(server, before)
    assert log.count("malformed Socket.IO packet") == 1, log
    assert "Traceback" not in log
    after = metric(world.url, "switchboard_malformed_packets_total")
    assert after == malformed_before + 1


@pytest.mark.parametrize("frame", ["9", "0", "6", "3[[[]]]", ""])
def test_an_unknown_engine_io_packet_closes_the_connection(
    world: World, server: LiveServer, frame: str
) -> None:
    before = server.process.log()
    ws = open_websocket(world.url)
    connect_engagement(ws, world.user_a.access_token)
    ws.send(frame)
    read_until_closed(ws)  # a recv timeout (5 s) fails the test
    ws.shutdown()
    log = new_lines(server, before)
    assert log.count("closing ") == 1, log
    assert "Traceback" not in log


def polling_session(url: str) -> str:
    """Open a long-polling engine.io session; return its sid."""
    response = requests.get(url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    assert response.status_code == 200
    return str(json.loads(response.text[1:])["sid"])


@pytest.mark.parametrize("body", ["4abc", "42/engagement,[oops", "9", "40\x1e9"])
def test_a_malformed_polling_post_is_answered_at_once(
    world: World, server: LiveServer, body: str
) -> None:
    before = server.process.log()
    sid = polling_session(world.url)
    endpoint = world.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    # Today's failure is a POST that never gets an answer: the timeout fails it.
    response = requests.post(endpoint, data=body.encode(), timeout=5)
    assert response.status_code == 400
    assert requests.get(endpoint, timeout=5).status_code == 400  # session gone
    log = new_lines(server, before)
    assert log.count("closing ") == 1, log
    assert "Traceback" not in log


def test_a_valid_polling_post_is_still_accepted(world: World) -> None:
    sid = polling_session(world.url)
    endpoint = world.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    connect = "40/engagement," + json.dumps({"token": world.user_a.access_token})
    response = requests.post(endpoint, data=connect.encode(), timeout=5)
    assert response.status_code == 200
    answer = requests.get(endpoint, timeout=5)
    assert answer.status_code == 200
    assert '40/engagement,{"sid"' in answer.text


def test_an_over_size_message_is_logged_once_and_counted(
    world: World, server: LiveServer
) -> None:
    before = server.process.log()
    counted_before = metric(world.url, "switchboard_oversize_messages_total")
    ws = open_websocket(world.url)
    connect_engagement(ws, world.user_a.access_token)
    try:
        ws.send('42/engagement,["ping","' + "x" * 70000 + '"]')
    except OSError:  # the server may hang up while the frame is being sent
        pass
    read_until_closed(ws)
    ws.shutdown()
    sid = polling_session(world.url)
    endpoint = world.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    response = requests.post(endpoint, data=b"4" + b"2" * 70000, timeout=5)
    assert response.status_code == 400
    log = new_lines(server, before)
    assert log.count("closing ") == 2, log
    assert "Traceback" not in log
    after = metric(world.url, "switchboard_oversize_messages_total")
    assert after == counted_before + 2


def deep(levels: int) -> Any:
    """A list nested ``levels`` deep."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"nested": deep(40)}, "too_deep"),
        ({"note": "a\x00b"}, "validation_error"),
        ({"a\x00b": 1}, "validation_error"),
    ],
)
def test_a_too_deep_or_nul_event_gets_an_error_ack_and_is_not_handled(
    world: World, server: LiveServer, sockets: Any, data: Any, code: str
) -> None:
    client: SocketRecorder = sockets().connect(
        world.url, world.msp_user.access_token, ["/dashboard"]
    )
    ack = client.call("ping", data, namespace="/dashboard")
    assert ack["ok"] is False
    assert ack["error"]["code"] == code
    # The connection stays usable, and the same event without the offence works.
    assert client.call("ping", {"nested": deep(20)}, namespace="/dashboard")["pong"]
    assert "Traceback" not in server.process.log()


def test_client_packets_are_told_apart_before_engine_io_decodes_them() -> None:
    assert packet_problem('42/engagement,["ping"]') is None
    assert packet_problem("3") is None
    assert packet_problem("2probe") is None
    assert packet_problem("4abc") == "not a Socket.IO packet"
    assert packet_problem("4[[[[") == "not a Socket.IO packet"  # no JSON decode
    assert packet_problem("9") is not None
    assert packet_problem("6") is not None  # NOOP comes from servers only
    assert payload_problem(b"") is None
    assert payload_problem(b"40\x1e3\x1ebAQID") is None
    assert payload_problem(b"bnot base64!") is not None
    assert payload_problem(b"\xff") is not None
    assert payload_problem("\x1e".join(["3"] * 17).encode()) is not None
