"""Socket connect authentication: every refusal has its documented code."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import websocket
from flask_jwt_extended import create_access_token

from tests.support.server import LiveServer
from tests.support.sockets import SocketFactory, SocketRecorder, connect_refusal
from tests.support.world import Api, World, login
from webapp import create_app


def _forged_token(secret: str, claims: dict[str, object], expires: timedelta) -> str:
    """Sign a token in-process with the given secret (to forge or expire tokens)."""
    app = create_app("testing")
    app.config["JWT_SECRET_KEY"] = secret
    with app.app_context():
        return create_access_token(
            identity="1", additional_claims=claims, expires_delta=expires
        )


@pytest.mark.parametrize(
    "namespace", ["/engagement", "/events", "/system", "/dashboard"]
)
def test_missing_token_is_refused_on_every_namespace(
    world: World, namespace: str
) -> None:
    error = connect_refusal(world.url, {}, namespace)
    assert error["message"] == "missing_token"
    assert error["data"]["message"]


def test_no_auth_at_all_is_refused(world: World) -> None:
    assert connect_refusal(world.url, None)["message"] == "missing_token"


def test_malformed_token_is_refused(world: World) -> None:
    assert (
        connect_refusal(world.url, {"token": "not.a.jwt"})["message"] == "invalid_token"
    )


def test_non_string_token_is_refused(world: World) -> None:
    assert connect_refusal(world.url, {"token": 12345})["message"] == "invalid_token"


def test_token_signed_with_another_key_is_refused(world: World) -> None:
    token = _forged_token(
        "some-other-secret-key-that-is-long-enough-xx",
        {"tenant_id": world.tenant_a["id"], "role": "admin"},
        timedelta(minutes=5),
    )
    assert connect_refusal(world.url, {"token": token})["message"] == "invalid_token"


def test_expired_token_is_refused(world: World, server: LiveServer) -> None:
    token = _forged_token(
        server.env["JWT_SECRET_KEY"],
        {"tenant_id": world.tenant_a["id"], "role": "client"},
        timedelta(seconds=-30),
    )
    assert connect_refusal(world.url, {"token": token})["message"] == "token_expired"


def test_refresh_token_is_refused_at_socket_connect(world: World) -> None:
    error = connect_refusal(world.url, {"token": world.user_a.refresh_token})
    assert error["message"] == "wrong_token_type"


def test_revoked_token_is_refused_at_socket_connect(world: World) -> None:
    member = world.add_user(world.tenant_a["id"])
    assert world.api(member).post("/api/auth/logout").status_code == 204
    error = connect_refusal(world.url, {"token": member.access_token})
    assert error["message"] == "token_revoked"


def test_logout_disconnects_that_tokens_live_sockets(
    world: World, sockets: SocketFactory
) -> None:
    member = world.add_user(world.tenant_a["id"])
    other_session = login(world.url, member.email, member.password)["access_token"]
    doomed = sockets().connect(
        world.url, member.access_token, ["/engagement", "/events"]
    )
    survivor = sockets().connect(world.url, other_session, ["/engagement"])
    assert world.api(member).post("/api/auth/logout").status_code == 204
    deadline = time.monotonic() + 5
    while doomed.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not doomed.client.connected
    assert survivor.client.connected
    assert (
        Api(world.url, token=member.access_token).get("/api/auth/me").status_code == 401
    )


def test_welcome_payload_describes_the_connection(
    world: World, sockets: SocketFactory
) -> None:
    recorder = sockets().connect(world.url, world.user_a.access_token, ["/events"])
    (welcome,) = recorder.wait_for("welcome", namespace="/events")
    assert welcome["namespace"] == "/events"
    assert welcome["sid"] == recorder.client.get_sid("/events")
    assert welcome["user"] == {
        "id": world.user_a.id,
        "name": world.user_a.email.split("@")[0],
        "role": "client",
        "tenant_id": world.tenant_a["id"],
    }
    assert welcome["heartbeat"] == {"interval": 25000, "timeout": 20000}
    assert welcome["server_time"].endswith("Z")


def test_unknown_client_event_gets_an_error_ack(
    world: World, sockets: SocketFactory
) -> None:
    recorder = sockets().connect(world.url, world.user_a.access_token, ["/engagement"])
    ack = recorder.call("no_such_event", {"x": 1})
    assert ack == {
        "ok": False,
        "error": {"code": "unknown_event", "message": "no such event 'no_such_event'"},
    }
    assert recorder.client.connected


def test_refused_connection_leaves_nothing_registered(world: World) -> None:
    before = Api(world.url).get("/ws/status").json()["active_connections"]
    for _ in range(3):
        connect_refusal(world.url, {"token": "garbage"})
    after = Api(world.url).get("/ws/status").json()["active_connections"]
    assert after == before
    recorder = SocketRecorder()
    assert recorder.client.connected is False


def _raw_engineio(url: str) -> websocket.WebSocket:
    """A raw engine.io v4 websocket: what any client speaks on the wire."""
    ws = websocket.create_connection(
        url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=5
    )
    assert ws.recv().startswith("0{")  # engine.io OPEN
    return ws


def test_refused_client_transport_is_closed_by_the_server(world: World) -> None:
    ws = _raw_engineio(world.url)
    try:
        ws.send('40/engagement,{"token":"garbage"}')
        refusal = ws.recv()
        assert refusal.startswith("44/engagement,")
        assert '"message":"invalid_token"' in refusal
        # After a short grace period the server sends engine.io CLOSE and hangs up.
        assert ws.recv() == "1"
        try:
            assert ws.recv() == ""
        except websocket.WebSocketConnectionClosedException:
            pass
    finally:
        ws.shutdown()  # closes the socket even after the server hung up


def test_transport_that_authenticates_another_namespace_stays_open(
    world: World,
) -> None:
    ws = _raw_engineio(world.url)
    try:
        ws.send('40/engagement,{"token":"garbage"}')
        assert ws.recv().startswith("44/engagement,")
        ws.send("40/events," + json.dumps({"token": world.user_a.access_token}))
        received = [ws.recv(), ws.recv()]
        assert any(frame.startswith("40/events,") for frame in received)
        time.sleep(1.5)  # longer than the grace period
        ws.send('42/events,0["no_such_event"]')  # an event with ack id 0
        assert ws.recv().startswith("43/events,0")  # still open: the ack arrives
    finally:
        ws.shutdown()  # closes the socket even after the server hung up


@pytest.mark.parametrize(
    "namespace", ["/engagement", "/events", "/system", "/dashboard"]
)
@pytest.mark.parametrize("hook", ["connected", "disconnected", "connect", "disconnect"])
def test_server_hooks_cannot_be_called_as_client_events(
    world: World, sockets: SocketFactory, namespace: str, hook: str
) -> None:
    recorder = sockets().connect(world.url, world.user_a.access_token, [namespace])
    recorder.wait_for("welcome", namespace=namespace)
    forged = [{}, [f"tenant:{world.tenant_b['id']}"], {"watched_tenant_id": 1}]
    ack = recorder.call(hook, forged, namespace=namespace)
    assert ack["ok"] is False and ack["error"]["code"] == "unknown_event"
    time.sleep(0.3)
    # Only the connect-time snapshot, never one built from the forged arguments.
    assert len(recorder.of("system_snapshot")) <= 1
    assert len(recorder.of("analytics_update")) <= 1
    assert recorder.client.connected
