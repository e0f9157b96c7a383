"""/engagement broadcasts: client and MSP users get the right events, and only those."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.support.engagement import (
    assert_no_leaks,
    barrier,
    domain_events,
    kill_client,
    new_engagement,
    start_killable_client,
)
from tests.support.sockets import SocketRecorder
from tests.support.world import World, build_world

Sockets = Callable[..., SocketRecorder]


@pytest.fixture(scope="module")
def shared_world(server: LiveServer) -> World:
    """One tenant tree for the module: every test makes its own engagements."""
    return build_world(server.url, server.seed)


@dataclass
class Audience:
    """Two tabs of a client A user, the MSP user and a client B user."""

    a1: SocketRecorder
    a2: SocketRecorder
    msp: SocketRecorder
    b: SocketRecorder

    def check_no_leaks(self, world: World) -> None:
        """Each connection only ever heard from its own rooms."""
        a, b, msp = world.tenant_a["id"], world.tenant_b["id"], world.msp_tenant["id"]
        client_a = ({f"tenant:{a}"}, {a})
        for recorder in (self.a1, self.a2):
            assert_no_leaks(recorder, *client_a)
        assert_no_leaks(self.b, {f"tenant:{b}"}, {b})
        assert_no_leaks(
            self.msp,
            {f"tenant:{msp}", f"tenant:{a}", f"tenant:{b}", f"msp:{msp}"},
            {msp, a, b},
        )

    def sync(self, world: World) -> None:
        """Wait until everything published so far reached every connection."""
        barrier(world, self.a1, world.key_a, world.tenant_a["id"])
        barrier(world, self.a2, world.key_a, world.tenant_a["id"])
        barrier(world, self.b, world.key_b, world.tenant_b["id"])
        barrier(world, self.msp, world.key_msp, world.msp_tenant["id"])


@pytest.fixture
def audience(shared_world: World, sockets: Sockets) -> Audience:
    """Connect the audience to /engagement and wait for each welcome."""
    world = shared_world
    recorders = Audience(
        a1=sockets().connect(world.url, world.user_a.access_token),
        a2=sockets().connect(world.url, world.user_a.access_token),
        msp=sockets().connect(world.url, world.msp_user.access_token),
        b=sockets().connect(world.url, world.user_b.access_token),
    )
    for recorder in (recorders.a1, recorders.a2, recorders.msp, recorders.b):
        recorder.wait_for("welcome", namespace="/engagement")
    return recorders


def _is_envelope(event: dict[str, Any], name: str, tenant_id: int, room: str) -> None:
    assert set(event) == {
        "id",
        "type",
        "namespace",
        "tenant_id",
        "room",
        "data",
        "timestamp",
    }
    assert isinstance(event["id"], int)
    assert event["type"] == name
    assert event["namespace"] == "/engagement"
    assert event["tenant_id"] == tenant_id
    assert event["room"] == room
    assert event["timestamp"].endswith("Z")


def test_client_and_msp_users_are_welcomed_with_who_they_are(
    shared_world: World, audience: Audience
) -> None:
    welcome_a = audience.a1.of("welcome", "/engagement")[0]
    welcome_msp = audience.msp.of("welcome", "/engagement")[0]
    assert welcome_a["user"]["id"] == shared_world.user_a.id
    assert welcome_a["user"]["role"] == "client"
    assert welcome_a["sid"] == audience.a1.client.get_sid("/engagement")
    assert welcome_msp["user"] == {
        "id": shared_world.msp_user.id,
        "name": shared_world.msp_user.email.split("@")[0],
        "role": "msp",
        "tenant_id": shared_world.msp_tenant["id"],
    }


def test_interaction_increment_reaches_every_client_connection_and_the_msp(
    shared_world: World, audience: Audience
) -> None:
    world = shared_world
    engagement = new_engagement(world)
    audience.sync(world)
    path = f"/api/engagements/{engagement['id']}/interactions"
    world.api(world.user_a).post(path, json={"kind": "call"})
    response = world.api(world.msp_user).post(path, json={"kind": "call"})
    assert response.json()["counters"] == {"call": 2}
    room = f"tenant:{world.tenant_a['id']}"
    received = []
    for recorder in (audience.a1, audience.a2, audience.msp):
        updates = recorder.wait_for(
            "interaction_update",
            lambda e: e["data"]["engagement_id"] == engagement["id"],
            count=2,
        )
        _is_envelope(updates[-1], "interaction_update", world.tenant_a["id"], room)
        assert [u["data"]["counters"] for u in updates] == [{"call": 1}, {"call": 2}]
        changes = recorder.wait_for(
            "engagement_update",
            lambda e: (
                e["data"]["action"] == "interaction"
                and e["data"]["engagement"]["id"] == engagement["id"]
            ),
            count=2,
        )
        assert changes[-1]["data"]["engagement"]["counters"] == {"call": 2}
        received.append([u["id"] for u in updates])
    # One persisted event each, the same ids for every recipient.
    assert received[0] == received[1] == received[2]
    audience.sync(world)
    assert domain_events(audience.b) == []
    audience.check_no_leaks(world)


def test_engagement_changes_reach_the_client_tenant_and_the_msp(
    shared_world: World, audience: Audience
) -> None:
    world = shared_world
    api = world.api(world.msp_user)
    engagement = new_engagement(world)
    path = f"/api/engagements/{engagement['id']}"
    api.patch(path, json={"title": "Renamed"})
    api.post(path + "/archive")
    for recorder in (audience.a1, audience.a2, audience.msp):
        updates = recorder.wait_for(
            "engagement_update",
            lambda e: e["data"]["engagement"]["id"] == engagement["id"],
            count=3,
        )
        assert [u["data"]["action"] for u in updates] == [
            "created",
            "updated",
            "archived",
        ]
        assert updates[1]["data"]["engagement"]["title"] == "Renamed"
        assert updates[2]["data"]["engagement"]["status"] == "archived"
    audience.sync(world)
    assert domain_events(audience.b) == []
    audience.check_no_leaks(world)


def test_alerts_reach_the_client_tenant_and_msp_only_alerts_the_msp_only(
    shared_world: World, audience: Audience
) -> None:
    world = shared_world
    engagement = new_engagement(world)
    path = f"/api/engagements/{engagement['id']}/alerts"
    internal = world.api(world.msp_user).post(
        path, json={"severity": "high", "title": "Margin low", "msp_only": True}
    )
    assert internal.status_code == 202
    assert internal.json()["room"] == f"msp:{world.msp_tenant['id']}"
    public = world.api(world.key_a).post(
        path, json={"severity": "medium", "title": "Printer on fire", "message": "3F"}
    )
    assert public.status_code == 202
    (seen,) = audience.msp.wait_for(
        "alert", lambda e: e["data"]["title"] == "Margin low"
    )
    assert seen["room"] == f"msp:{world.msp_tenant['id']}"
    assert seen["data"]["engagement_id"] == engagement["id"]
    for recorder in (audience.a1, audience.a2, audience.msp):
        (alert,) = recorder.wait_for(
            "alert", lambda e: e["data"]["title"] == "Printer on fire"
        )
        assert alert["data"] == {
            "severity": "medium",
            "title": "Printer on fire",
            "message": "3F",
            "engagement_id": engagement["id"],
        }
    audience.sync(world)
    for recorder in (audience.a1, audience.a2, audience.b):
        titles = [e["data"]["title"] for e in domain_events(recorder, "alert")]
        assert "Margin low" not in titles
    assert domain_events(audience.b) == []
    audience.check_no_leaks(world)


def test_only_msp_staff_may_raise_msp_only_alerts(shared_world: World) -> None:
    world = shared_world
    path = f"/api/engagements/{new_engagement(world)['id']}/alerts"
    for client in (world.user_a, world.key_a):
        refused = world.api(client).post(path, json={"title": "x", "msp_only": True})
        assert refused.status_code == 403
    assert world.api(world.user_a).post(path, json={"title": "x"}).status_code == 403


def test_a_dead_connection_does_not_stop_a_broadcast(
    shared_world: World, audience: Audience
) -> None:
    world = shared_world
    engagement = new_engagement(world)
    victim = start_killable_client(world.url, world.user_a)
    kill_client(victim)
    path = f"/api/engagements/{engagement['id']}/interactions"
    assert world.api(world.user_a).post(path, json={"kind": "chat"}).status_code == 200
    for recorder in (audience.a1, audience.a2, audience.msp):
        recorder.wait_for(
            "interaction_update",
            lambda e: e["data"]["engagement_id"] == engagement["id"],
        )


def test_connection_counts_follow_connects_and_disconnects(
    shared_world: World, sockets: Sockets
) -> None:
    world = shared_world
    api = world.api(world.msp_user)

    def engagement_connections() -> int:
        stats = api.get("/ws/stats").json()["tenants"][str(world.tenant_a["id"])]
        return int(stats["namespaces"].get("/engagement", 0))

    before = engagement_connections()
    tabs = [sockets().connect(world.url, world.user_a.access_token) for _ in range(2)]
    assert engagement_connections() == before + 2
    tabs[1].disconnect()
    deadline = time.monotonic() + 5
    while engagement_connections() != before + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engagement_connections() == before + 1
    assert world.api(world.user_a).get("/ws/stats").status_code == 403
