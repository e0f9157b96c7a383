"""Collaboration sessions on /engagement: join, leave, messages, presence, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.support.engagement import assert_no_leaks, barrier, new_session
from tests.support.sockets import SocketRecorder
from tests.support.world import Member, World, build_world

Sockets = Callable[..., SocketRecorder]


@pytest.fixture(scope="module")
def shared_world(server: LiveServer) -> World:
    """One tenant tree for the module: every test makes its own sessions."""
    return build_world(server.url, server.seed)


@pytest.fixture(scope="module")
def colleague(shared_world: World) -> Member:
    """A second client user in tenant A."""
    return shared_world.add_user(shared_world.tenant_a["id"])


def connect(sockets: Sockets, world: World, member: Member) -> SocketRecorder:
    """A /engagement connection that has been welcomed."""
    recorder = sockets().connect(world.url, member.access_token)
    recorder.wait_for("welcome", namespace="/engagement")
    return recorder


def join(recorder: SocketRecorder, session_id: int) -> dict[str, Any]:
    """join_session, asserting a positive ack."""
    ack = recorder.call("join_session", {"session_id": session_id})
    assert ack["ok"] is True, ack
    return dict(ack)


def user_ids(events: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(user id, count) of presence envelopes."""
    return [(e["data"]["user"]["id"], e["data"]["count"]) for e in events]


def test_three_users_join_see_each_other_and_share_messages(
    shared_world: World, colleague: Member, sockets: Sockets
) -> None:
    world = shared_world
    session = new_session(world, world.user_a, title="War room")
    sid = session["id"]
    ann = connect(sockets, world, world.user_a)
    bob = connect(sockets, world, colleague)
    max_ = connect(sockets, world, world.msp_user)

    first = join(ann, sid)
    assert first["session_id"] == sid
    assert first["count"] == 1
    assert [p["id"] for p in first["participants"]] == [world.user_a.id]
    assert first["session"]["title"] == "War room"
    assert first["session"]["tenant_id"] == world.tenant_a["id"]
    assert join(bob, sid)["count"] == 2
    ann.wait_for("user_joined", lambda e: e["data"]["user"]["id"] == colleague.id)
    third = join(max_, sid)
    assert third["count"] == 3
    assert {p["id"] for p in third["participants"]} == {
        world.user_a.id,
        colleague.id,
        world.msp_user.id,
    }
    for recorder in (ann, bob):
        recorder.wait_for(
            "user_joined", lambda e: e["data"]["user"]["id"] == world.msp_user.id
        )
    # Each saw the others arrive, with the count after their arrival, not itself.
    assert user_ids(ann.of("user_joined")) == [
        (colleague.id, 2),
        (world.msp_user.id, 3),
    ]
    assert user_ids(bob.of("user_joined")) == [(world.msp_user.id, 3)]
    assert max_.of("user_joined") == []
    joined = ann.of("user_joined")[0]
    assert joined["room"] == f"session:{sid}" and joined["id"] is None
    assert joined["data"]["user"]["role"] == "client"

    sent = bob.call("send_message", {"session_id": sid, "text": "hello all"})
    assert sent == {"ok": True, "id": sent["id"]} and isinstance(sent["id"], int)
    for recorder in (ann, bob, max_):
        (message,) = recorder.wait_for("session_message")
        assert message["id"] == sent["id"]
        assert message["room"] == f"session:{sid}"
        assert message["tenant_id"] == world.tenant_a["id"]
        assert message["data"]["text"] == "hello all"
        assert message["data"]["session_id"] == sid
        assert message["data"]["user"]["id"] == colleague.id

    live = world.api(world.user_a).get(f"/api/sessions/{sid}").json()
    assert live["count"] == 3
    assert {p["id"] for p in live["participants"]} == {
        world.user_a.id,
        colleague.id,
        world.msp_user.id,
    }

    left = max_.call("leave_session", {"session_id": sid})
    assert left["ok"] is True and left["count"] == 2
    for recorder in (ann, bob):
        (gone,) = recorder.wait_for("user_left")
        assert user_ids([gone]) == [(world.msp_user.id, 2)]
    bob.disconnect()
    (gone,) = ann.wait_for("user_left", lambda e: e["data"]["count"] == 1)
    assert gone["data"]["user"]["id"] == colleague.id
    live = world.api(world.user_a).get(f"/api/sessions/{sid}").json()
    assert [p["id"] for p in live["participants"]] == [world.user_a.id]
    assert max_.of("user_left") == []
    assert max_.of("session_message")[-1]["id"] == sent["id"]


def test_a_user_with_several_tabs_counts_once(
    shared_world: World, colleague: Member, sockets: Sockets
) -> None:
    world = shared_world
    sid = new_session(world, world.user_a)["id"]
    observer = connect(sockets, world, colleague)
    join(observer, sid)
    tab1 = connect(sockets, world, world.user_a)
    tab2 = connect(sockets, world, world.user_a)
    assert join(tab1, sid)["count"] == 2
    second = join(tab2, sid)
    assert second["count"] == 2
    assert len(second["participants"]) == 2
    assert join(tab2, sid)["count"] == 2  # joining twice changes nothing
    assert tab1.call("leave_session", {"session_id": sid})["count"] == 2
    # Everything above has reached the observer once this message has.
    marker = observer.call("send_message", {"session_id": sid, "text": "sync"})
    observer.wait_for("session_message", lambda e: e["id"] == marker["id"])
    assert user_ids(observer.of("user_joined")) == [(world.user_a.id, 2)]
    assert observer.of("user_left") == []
    assert tab2.call("leave_session", {"session_id": sid})["count"] == 1
    (gone,) = observer.wait_for("user_left")
    assert user_ids([gone]) == [(world.user_a.id, 1)]


def test_sessions_are_isolated_between_sessions_and_tenants(
    shared_world: World, colleague: Member, sockets: Sockets
) -> None:
    world = shared_world
    a, b, msp = world.tenant_a["id"], world.tenant_b["id"], world.msp_tenant["id"]
    session_a = new_session(world, world.user_a)["id"]
    other_a = new_session(world, colleague)["id"]
    session_b = new_session(world, world.user_b)["id"]
    ann = connect(sockets, world, world.user_a)
    bob = connect(sockets, world, colleague)
    max_ = connect(sockets, world, world.msp_user)
    beth = connect(sockets, world, world.user_b)
    join(ann, session_a)
    join(max_, session_a)
    join(bob, other_a)
    join(beth, session_b)
    ann.call("send_message", {"session_id": session_a, "text": "in A"})
    bob.call("send_message", {"session_id": other_a, "text": "in other A"})
    beth.call("send_message", {"session_id": session_b, "text": "in B"})
    max_.call("leave_session", {"session_id": session_a})
    barrier(world, ann, world.key_a, a)
    barrier(world, bob, world.key_a, a)
    barrier(world, beth, world.key_b, b)
    barrier(world, max_, world.key_msp, msp)

    assert [m["data"]["text"] for m in ann.of("session_message")] == ["in A"]
    assert [m["data"]["text"] for m in max_.of("session_message")] == ["in A"]
    assert [m["data"]["text"] for m in bob.of("session_message")] == ["in other A"]
    assert [m["data"]["text"] for m in beth.of("session_message")] == ["in B"]
    assert bob.of("user_joined") == bob.of("user_left") == []
    assert beth.of("user_joined") == beth.of("user_left") == []
    assert_no_leaks(ann, {f"tenant:{a}", f"session:{session_a}"}, {a})
    assert_no_leaks(bob, {f"tenant:{a}", f"session:{other_a}"}, {a})
    assert_no_leaks(beth, {f"tenant:{b}", f"session:{session_b}"}, {b})
    assert_no_leaks(
        max_,
        {
            f"tenant:{msp}",
            f"tenant:{a}",
            f"tenant:{b}",
            f"msp:{msp}",
            f"session:{session_a}",
        },
        {msp, a, b},
    )


def test_publish_api_can_target_a_session(
    shared_world: World, sockets: Sockets
) -> None:
    world = shared_world
    sid = new_session(world, world.user_a)["id"]
    member = connect(sockets, world, world.user_a)
    join(member, sid)
    response = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": "Deploy in 5"},
            "target": {"session": sid},
        },
    )
    assert response.status_code == 202
    assert response.json()["room"] == f"session:{sid}"
    (alert,) = member.wait_for("alert", lambda e: e["room"] == f"session:{sid}")
    assert alert["id"] == response.json()["id"]


INVALID_PAYLOADS: list[Any] = [
    None,
    "7",
    [7],
    {},
    {"session_id": "7"},
    {"session_id": True},
    {"session_id": 0},
    {"session_id": 7.5},
    {"session_id": 7, "extra": 1},
]


def test_every_bad_session_event_gets_its_error_ack(
    shared_world: World, sockets: Sockets
) -> None:
    world = shared_world
    sid = new_session(world, world.user_a)["id"]
    other_tenant = new_session(world, world.user_b)["id"]
    ann = connect(sockets, world, world.user_a)

    def code(event: str, data: Any) -> str:
        ack = ann.call(event, data)
        assert ack["ok"] is False and ack["error"]["message"], ack
        return str(ack["error"]["code"])

    for event in ("join_session", "leave_session", "send_message"):
        for payload in INVALID_PAYLOADS:
            assert code(event, payload) == "invalid", (event, payload)
    for bad in ({"last_event_id": -1}, {"last_event_id": "5"}, {"last_event_id": 1.5}):
        assert code("join_session", {"session_id": sid, **bad}) == "invalid"
    for missing in (99999999, other_tenant):
        assert code("join_session", {"session_id": missing}) == "not_found"
        assert code("leave_session", {"session_id": missing}) == "not_found"
        message = {"session_id": missing, "text": "hi"}
        assert code("send_message", message) == "not_found"
    assert code("send_message", {"session_id": sid, "text": "hi"}) == "not_joined"
    assert code("leave_session", {"session_id": sid}) == "not_joined"

    join(ann, sid)
    assert ann.call("join_session", {"session_id": sid, "last_event_id": 0})["ok"]
    for text in ("", "   \n", "x" * 4001, 42, None, ["hi"]):
        assert code("send_message", {"session_id": sid, "text": text}) == "invalid"
    longest = ann.call("send_message", {"session_id": sid, "text": "x" * 4000})
    assert longest["ok"] is True
    assert ann.client.connected
    assert ann.of("user_joined") == [] and ann.of("user_left") == []
