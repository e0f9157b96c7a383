"""Webhooks on a cluster: two processes on one PostgreSQL and one Redis.

Both processes run a sender and both see every presence change; each transition
and each published event must still reach the receiver exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.cluster_pair import two_processes
from tests.support.engagement import new_session
from tests.support.server import LiveServer
from tests.support.sockets import SocketRecorder
from tests.support.webhooks import (
    WEBHOOK_ENV,
    Receiver,
    call_ok,
    create_webhook,
    receiver,
)
from tests.support.world import Member, World, build_world, publish_alerts

__all__ = ["receiver"]  # a fixture, used by name

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

Connect = Callable[[LiveServer, Member], SocketRecorder]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LiveServer]]:
    """Two processes with quick webhook settings, allowed to call 127.0.0.1."""
    settings = {**WEBHOOK_ENV, "MAX_CONNECTIONS_PER_USER": "5"}
    with two_processes(tmp_path_factory, "webhooks-cluster", settings) as servers:
        yield servers


@pytest.fixture
def world(pair: list[LiveServer]) -> World:
    """A fresh tenant tree on the pair."""
    return build_world(pair[0].url, pair[0].seed)


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Welcomed /engagement connections to a given process; closed after."""
    made: list[SocketRecorder] = []

    def make(server: LiveServer, member: Member) -> SocketRecorder:
        recorder = SocketRecorder().connect(server.url, member.access_token)
        recorder.wait_for("welcome")
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.disconnect()


def test_each_presence_transition_is_delivered_once(
    pair: list[LiveServer], world: World, receiver: Receiver, connect: Connect
) -> None:
    one, two = pair
    tenant = world.tenant_a["id"]
    hook = create_webhook(
        world.api(world.msp_user),
        tenant,
        receiver.url,
        [
            "session.occupied",
            "session.member_added",
            "session.member_removed",
            "session.vacated",
        ],
    )
    receiver.secret = hook["secret"]
    alice, bob = world.user_a, world.add_user(tenant)
    session = new_session(world, alice)["id"]
    # Alice has a tab on each process; Bob is on the second.
    alice_one, alice_two, bob_two = (
        connect(one, alice),
        connect(two, alice),
        connect(two, bob),
    )
    call_ok(alice_one, "join_session", session)
    call_ok(alice_two, "join_session", session)
    call_ok(bob_two, "join_session", session)
    call_ok(alice_one, "leave_session", session)
    call_ok(alice_two, "leave_session", session)
    call_ok(bob_two, "leave_session", session)

    expected = [
        ("session.occupied", alice.id),
        ("session.member_added", alice.id),
        ("session.member_added", bob.id),
        ("session.member_removed", alice.id),
        ("session.member_removed", bob.id),
        ("session.vacated", bob.id),
    ]
    receiver.wait_for(lambda got: len(got) >= len(expected))
    time.sleep(1.0)  # a duplicate from the other process would arrive by now
    got = receiver.of()
    assert [(r.payload["type"], r.payload["data"]["user"]["id"]) for r in got] == (
        expected
    )
    assert all(r.signed for r in got)
    assert len({r.id for r in got}) == len(expected)


def test_events_published_on_both_processes_are_delivered_once_in_order(
    pair: list[LiveServer], world: World, receiver: Receiver
) -> None:
    one, two = pair
    tenant = world.tenant_a["id"]
    hook = create_webhook(
        world.api(world.msp_user), tenant, receiver.url, ["event.published"]
    )
    receiver.secret = hook["secret"]
    ids: list[int] = []
    for round_ in range(4):
        for server in (one, two):
            ids += publish_alerts(
                server.url, world.key_a, tenant, 3, prefix=f"r{round_}"
            )
    receiver.wait_for(lambda got: len(got) >= len(ids), timeout=30)
    time.sleep(1.0)
    got = receiver.of()
    event_ids = [r.payload["data"]["id"] for r in got]
    assert sorted(event_ids) == sorted(ids)  # each exactly once
    assert event_ids == sorted(event_ids)  # in id order: the receiver kept up
    assert all(r.signed for r in got)
