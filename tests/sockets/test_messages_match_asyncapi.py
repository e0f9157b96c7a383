"""What a live server really sends matches /asyncapi.json, message by message.

Real ``socketio.Client`` connections (tests/support/sockets.py) exercise connect,
refusals, welcome, snapshots, every client event with its ack and error ack,
presence, chat and replay; each payload is checked against the schema the served
document gives that message. A handler whose answer drifts from the document fails
here.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support.asyncapi import check_payload, message
from tests.support.engagement import new_session
from tests.support.sockets import SocketFactory, connect_refusal, resume
from tests.support.world import World

pytestmark = pytest.mark.node


@pytest.fixture
def doc(world: World) -> dict[str, Any]:
    """The document as the live server serves it."""
    response = requests.get(world.url + "/asyncapi.json", timeout=10)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def publish_alert(world: World, title: str) -> int:
    """Publish an /engagement alert to tenant A; return its event id."""
    response = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": title, "severity": "high"},
            "target": {"tenant": world.tenant_a["id"]},
        },
    )
    assert response.status_code == 202, response.text
    event_id: int = response.json()["id"]
    return event_id


def test_connect_welcome_and_snapshots_match(
    world: World, sockets: SocketFactory, doc: dict[str, Any]
) -> None:
    namespaces = ("/engagement", "/events", "/system", "/dashboard")
    client = sockets().connect(world.url, world.user_a.access_token, namespaces)
    for namespace in namespaces:
        welcome = client.wait_for("welcome", namespace=namespace)[0]
        check_payload(doc, namespace, "welcome", welcome)
    snapshot = client.wait_for("system_snapshot", namespace="/system")[0]
    check_payload(doc, "/system", "system_snapshot", snapshot)
    analytics = client.wait_for("analytics_update", namespace="/dashboard")[0]
    check_payload(doc, "/dashboard", "analytics_update", analytics)


def test_refusals_match_and_use_documented_codes(
    world: World, doc: dict[str, Any]
) -> None:
    refusal = message(doc, "/engagement", "connect_error")["payload"]
    codes = {c["const"] for c in refusal["properties"]["message"]["oneOf"]}
    attempts = [
        ({}, "missing_token"),
        ({"token": "not.a.jwt"}, "invalid_token"),
        ({"token": world.user_a.refresh_token}, "wrong_token_type"),
        (
            {"token": world.user_a.access_token, "last_event_id": -1},
            "invalid_last_event_id",
        ),
    ]
    for auth, code in attempts:
        error = connect_refusal(world.url, auth, "/events")
        check_payload(doc, "/events", "connect_error", error)
        assert error["message"] == code and code in codes


def test_client_events_and_acks_match(
    world: World, sockets: SocketFactory, doc: dict[str, Any]
) -> None:
    session = new_session(world, world.user_a)
    other = world.add_user(world.tenant_a["id"])
    a = sockets().connect(world.url, world.user_a.access_token)
    b = sockets().connect(world.url, other.access_token)
    joined = a.call("join_session", {"session_id": session["id"]})
    check_payload(doc, "/engagement", "join_session_ack", joined)
    b.call("join_session", {"session_id": session["id"]})
    check_payload(doc, "/engagement", "user_joined", a.wait_for("user_joined")[0])
    sent = a.call("send_message", {"session_id": session["id"], "text": "hello"})
    check_payload(doc, "/engagement", "send_message_ack", sent)
    chat = a.wait_for("session_message")[0]
    check_payload(doc, "/engagement", "session_message", chat)
    assert chat["id"] == sent["id"]
    left = b.call("leave_session", {"session_id": session["id"]})
    check_payload(doc, "/engagement", "leave_session_ack", left)
    check_payload(doc, "/engagement", "user_left", a.wait_for("user_left")[0])
    for bad in ({"session_id": "seven"}, {"session_id": 1, "extra": True}, None):
        refused = a.call("join_session", bad)
        check_payload(doc, "/engagement", "error_ack", refused)
        assert refused["error"]["code"] == "invalid"
    unknown = a.call("leave_session", {"session_id": 2**63 - 1})
    check_payload(doc, "/engagement", "error_ack", unknown)
    assert unknown["error"]["code"] == "not_found"
    again = b.call("leave_session", {"session_id": session["id"]})
    check_payload(doc, "/engagement", "error_ack", again)
    assert again["error"]["code"] == "not_joined"

    dashboard = sockets().connect(world.url, world.user_a.access_token, ["/dashboard"])
    for name in ("ping", "refresh"):
        ack = dashboard.call(name, None, namespace="/dashboard")
        check_payload(doc, "/dashboard", f"{name}_ack", ack)


def test_replay_messages_match(
    world: World, sockets: SocketFactory, doc: dict[str, Any]
) -> None:
    first = publish_alert(world, "missed one")
    publish_alert(world, "missed two")
    client, complete = resume(sockets, world.url, world.user_a.access_token, first - 1)
    check_payload(doc, "/engagement", "replay_complete", complete)
    assert complete["recovered"] is True and complete["count"] == 2
    replayed = client.wait_for("alert", lambda e: e.get("replayed"), count=2)
    for envelope in replayed:
        check_payload(doc, "/engagement", "alert", envelope)
    _, ahead = resume(sockets, world.url, world.user_a.access_token, 2**62)
    check_payload(doc, "/engagement", "replay_complete", ahead)
    assert ahead["reason"] == "last_event_id_ahead"

    session = new_session(world, world.user_a)
    joined = client.call(
        "join_session", {"session_id": session["id"], "last_event_id": first}
    )
    check_payload(doc, "/engagement", "join_session_ack", joined)
    assert joined["replay"]["recovered"] is True


def test_a_drifted_message_fails_the_check(
    world: World, sockets: SocketFactory, doc: dict[str, Any]
) -> None:
    """The checks above can fail: a real welcome with a changed field does not."""
    client = sockets().connect(world.url, world.user_a.access_token)
    welcome = dict(client.wait_for("welcome")[0])
    check_payload(doc, "/engagement", "welcome", welcome)
    with pytest.raises(Exception, match="heartbeat"):
        check_payload(doc, "/engagement", "welcome", {**welcome, "heartbeat": 25})


def test_the_document_is_public_and_holds_no_tenant_data(world: World) -> None:
    """Every caller gets the same bytes; no tenant's name or id is in them."""
    bodies = {
        requests.get(world.url + "/asyncapi.json", headers=headers, timeout=10).text
        for headers in (
            {},
            {"Authorization": f"Bearer {world.user_a.access_token}"},
            {"Authorization": f"Bearer {world.user_b.access_token}"},
            {"X-API-Key": world.key_b},
        )
    }
    assert len(bodies) == 1
    (body,) = bodies
    for tenant in (world.tenant_a, world.tenant_b, world.msp_tenant):
        assert tenant["name"] not in body
    assert world.user_a.email not in body
