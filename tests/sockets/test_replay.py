"""Gap-free replay of missed events on reconnect (docs/architecture.md §6)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.netfault import TcpProxy
from tests.support.server import ServerFactory
from tests.support.sockets import ResumingClient, SocketFactory, connect_refusal, resume
from tests.support.world import Api, World, build_world, publish_alerts


def _latest_id(world: World) -> int:
    events = world.api(world.key_a).get("/api/events", params={"limit": 1000}).json()
    return max([e["id"] for e in events["events"]], default=0)


def test_reconnect_replays_missed_events_in_order(
    world: World, sockets: SocketFactory
) -> None:
    proxy = TcpProxy(int(world.url.rsplit(":", 1)[1]))
    try:
        client = ResumingClient(world.user_a.access_token)
        client.connect(proxy.url, None, ["/engagement"], auth=client.auth)
        before = publish_alerts(
            world.url, world.key_a, world.tenant_a["id"], 3, "before"
        )
        client.wait_for_ids(before)

        proxy.cut()  # the transport drops; the client keeps trying to reconnect
        deadline = time.monotonic() + 10
        while client.client.connected and time.monotonic() < deadline:
            time.sleep(0.05)  # publish only once the client knows it is cut off
        missed = publish_alerts(
            world.url, world.key_a, world.tenant_a["id"], 100, "gap"
        )
        time.sleep(5)
        proxy.restore()

        complete = client.wait_for("replay_complete", timeout=20)[-1]
        assert complete == {
            "count": 100,
            "last_event_id": missed[-1],
            "recovered": True,
        }
        live = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 5, "after")
        client.wait_for_ids(live)
        assert client.ids == before + missed + live  # all, in order, no duplicates
        replayed = [d["id"] for d in client.of("alert") if d.get("replayed")]
        assert replayed == missed
        client.disconnect()
    finally:
        proxy.close()


def test_no_last_event_id_means_no_replay(world: World, sockets: SocketFactory) -> None:
    publish_alerts(world.url, world.key_a, world.tenant_a["id"], 3)
    client = sockets().connect(world.url, world.user_a.access_token, ["/engagement"])
    client.wait_for("welcome")
    time.sleep(0.5)
    assert client.of("replay_complete") == []
    assert client.of("alert") == []


def test_up_to_date_client_gets_an_empty_replay(
    world: World, sockets: SocketFactory
) -> None:
    ids = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 2)
    client, complete = resume(sockets, world.url, world.user_a.access_token, ids[-1])
    assert complete == {"count": 0, "last_event_id": ids[-1], "recovered": True}


def test_last_event_id_zero_never_replays_another_tenants_events(
    world: World,
    sockets: SocketFactory,
) -> None:
    theirs = publish_alerts(world.url, world.key_b, world.tenant_b["id"], 5, "b")
    mine = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 2, "a")
    client = sockets().connect(
        world.url, world.user_a.access_token, ["/engagement"], auth={"last_event_id": 0}
    )
    client.wait_for("replay_complete")
    received = [d["id"] for d in client.of("alert")]
    assert set(mine) <= set(received)
    assert not set(theirs) & set(received)
    assert all(d["tenant_id"] == world.tenant_a["id"] for d in client.of("alert"))


def test_msp_user_replays_its_clients_events_in_one_order(
    world: World,
    sockets: SocketFactory,
) -> None:
    start = _latest_id(world)
    ids = []
    for _ in range(3):
        ids += publish_alerts(world.url, world.key_a, world.tenant_a["id"], 2, "a")
        ids += publish_alerts(world.url, world.key_b, world.tenant_b["id"], 2, "b")
    client, complete = resume(sockets, world.url, world.msp_user.access_token, start)
    assert complete["recovered"] is True
    assert [d["id"] for d in client.of("alert")] == ids


@pytest.mark.parametrize("bad", ["12", -1, True, 1.5, {"id": 3}])
def test_malformed_last_event_id_is_refused_with_a_code(
    world: World, bad: object
) -> None:
    error = connect_refusal(
        world.url, {"token": world.user_a.access_token, "last_event_id": bad}
    )
    assert error["message"] == "invalid_last_event_id"


def test_last_event_id_from_the_future_is_not_recovered(
    world: World, sockets: SocketFactory
) -> None:
    client, complete = resume(sockets, world.url, world.user_a.access_token, 10**12)
    assert complete["recovered"] is False
    assert complete["reason"] == "last_event_id_ahead"
    assert client.client.connected
    # Live events keep flowing although their ids are below the client's.
    live = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 2, "live")
    for event_id in live:
        client.wait_for("alert", lambda e, i=event_id: e["id"] == i)


def test_live_events_during_a_replay_are_neither_lost_duplicated_nor_reordered(
    world: World,
) -> None:
    start = _latest_id(world)
    backlog = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 1500, "old")
    live_ids: list[int] = []
    stop = threading.Event()

    def publish_live() -> None:
        api = Api(world.url, api_key=world.key_a)
        while not stop.is_set():
            response = api.post(
                "/api/publish",
                json={
                    "namespace": "/engagement",
                    "event": "alert",
                    "data": {"title": "live"},
                    "target": {"tenant": world.tenant_a["id"]},
                },
            )
            live_ids.append(response.json()["id"])

    publisher = threading.Thread(target=publish_live)
    publisher.start()
    time.sleep(0.2)
    client = ResumingClient(world.user_a.access_token, last_event_id=start)
    client.connect(world.url, None, ["/engagement"], auth=client.auth)
    client.wait_for("replay_complete", timeout=30)
    time.sleep(0.5)
    stop.set()
    publisher.join()
    expected = sorted(backlog + live_ids)
    client.wait_for_ids(expected)
    assert client.ids == expected
    client.disconnect()


def test_gap_beyond_the_window_replays_nothing(
    server_factory: ServerFactory, sockets: SocketFactory
) -> None:
    live = server_factory({"REPLAY_MAX_EVENTS": "10"})
    world = build_world(live.url, live.seed)
    start = _latest_id(world)
    publish_alerts(world.url, world.key_a, world.tenant_a["id"], 11)
    client, complete = resume(sockets, world.url, world.user_a.access_token, start)
    assert complete["recovered"] is False
    assert complete["count"] == 0
    assert complete["reason"] == "too_many_events"
    assert client.of("alert") == []
    # Within the window, the same client recovers.
    recent = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 3)
    again = sockets().connect(
        world.url,
        world.user_a.access_token,
        ["/engagement"],
        auth={"last_event_id": recent[0] - 1},
    )
    assert again.wait_for("replay_complete")[0]["recovered"] is True
    assert [d["id"] for d in again.of("alert")] == recent


def test_events_older_than_replay_max_age_are_not_recovered(
    server_factory: ServerFactory, sockets: SocketFactory
) -> None:
    live = server_factory({"REPLAY_MAX_AGE": "1"})
    world = build_world(live.url, live.seed)
    start = _latest_id(world)
    publish_alerts(world.url, world.key_a, world.tenant_a["id"], 2)
    time.sleep(1.5)
    client, complete = resume(sockets, world.url, world.user_a.access_token, start)
    assert (complete["recovered"], complete["reason"]) == (False, "too_old")
    assert client.of("alert") == []
