"""No unauthenticated connection survives: `/`, unknown namespaces, idle sessions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio
import websocket

from tests.support.server import LiveServer, ServerProcess, base_env, prepare_database
from tests.support.sockets import SocketRecorder, open_websocket
from tests.support.world import World, build_world
from webapp.engine.connect_deadline import ConnectDeadlines


def refusal(url: str, namespace: str, auth: Any) -> Any:
    """Connect a real client to ``namespace``; return its ``connect_error`` data."""
    client = socketio.Client(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append, namespace=namespace)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(
                url,
                namespaces=[namespace],
                auth=auth,
                transports=["websocket"],
                wait_timeout=5,
            )
    finally:
        client.disconnect()
    assert errors, "no connect_error received"
    return errors[0]


def frames_until_closed(ws: websocket.WebSocket) -> list[str]:
    """Every frame until the server closes (a recv timeout fails the test)."""
    frames = []
    try:
        while (frame := ws.recv()) != "":
            frames.append(frame)
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass  # closed, possibly while websocket-client answered the close
    finally:
        ws.shutdown()
    return frames


@pytest.mark.parametrize("namespace", ["/", "/nope"])
@pytest.mark.parametrize("with_token", [False, True])
def test_the_main_and_unknown_namespaces_are_refused(
    world: World, namespace: str, with_token: bool
) -> None:
    auth = {"token": world.user_a.access_token} if with_token else None
    error = refusal(world.url, namespace, auth)
    assert error["message"] == "unknown_namespace"
    assert "/engagement" in error["data"]["message"]


def test_a_refused_namespace_leaves_no_session_open(world: World) -> None:
    ws = open_websocket(world.url)
    ws.send("40")  # CONNECT to "/"
    frames = frames_until_closed(ws)  # closed after a short grace
    assert frames[0].startswith('44{"message":"unknown_namespace"')


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that closes sessions with no namespace after one second."""
    directory = tmp_path_factory.mktemp("impatient")
    env = base_env(
        f"sqlite:///{directory / 'switchboard.db'}",
        {"CONNECT_TIMEOUT": "1", "TEST_LOG_DIR": str(directory)},
    )
    seed = prepare_database(env)
    process = ServerProcess(env).start()
    yield LiveServer(process, seed, env)
    process.stop()


def test_a_websocket_that_never_connects_a_namespace_is_closed(
    impatient: LiveServer,
) -> None:
    frames = frames_until_closed(open_websocket(impatient.url))
    assert "1" in frames  # engine.io CLOSE
    assert "Traceback" not in impatient.process.log()


def test_a_polling_session_that_never_connects_a_namespace_is_closed(
    impatient: LiveServer,
) -> None:
    endpoint = impatient.url + "/socket.io/?EIO=4&transport=polling"
    handshake = requests.get(endpoint, timeout=5)
    sid = json.loads(handshake.text[1:])["sid"]
    poll = requests.get(endpoint + f"&sid={sid}", timeout=10)
    assert poll.text == "1"  # engine.io CLOSE, once the deadline passed
    assert requests.get(endpoint + f"&sid={sid}", timeout=5).status_code == 400


def test_a_transport_whose_last_namespace_left_is_closed(
    impatient: LiveServer,
) -> None:
    world = build_world(impatient.url, impatient.seed)
    ws = open_websocket(impatient.url)
    ws.send("40/engagement," + json.dumps({"token": world.user_a.access_token}))
    assert ws.recv().startswith("40/engagement,")
    time.sleep(2)  # past the deadline the transport got when it opened
    ws.send("41/engagement,")  # leave the namespace, keep the transport
    assert "1" in frames_until_closed(ws)


def test_an_authenticated_connection_outlives_the_connect_timeout(
    impatient: LiveServer,
) -> None:
    world = build_world(impatient.url, impatient.seed)
    client = SocketRecorder().connect(
        impatient.url, world.msp_user.access_token, ["/dashboard"]
    )
    try:
        client.wait_for("welcome")
        time.sleep(2.5)  # past the deadline and a sweep
        assert client.client.connected
        assert client.call("ping", namespace="/dashboard")["pong"] is True
    finally:
        client.disconnect()


def test_deadlines_come_due_in_order_and_only_once() -> None:
    deadlines = ConnectDeadlines()
    deadlines.watch("late", 10, now=0)
    deadlines.watch("grace", 1, now=0)
    deadlines.watch("later", 10, now=5)
    assert deadlines.due(now=0.5) == []
    assert deadlines.due(now=10) == ["grace", "late"]
    assert deadlines.due(now=10) == []
    assert deadlines.due(now=20) == ["later"]
    assert len(deadlines) == 0
