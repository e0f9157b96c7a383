"""Replay under failure: server crashes, large backlogs, pruning, session rooms."""

from __future__ import annotations

import json
import threading
import time

import requests

from tests.support.server import ServerFactory, run_flask
from tests.support.sockets import ResumingClient, SocketFactory, resume
from tests.support.world import Api, build_world, publish_alerts


def _alert(tenant_id: int, title: str) -> dict[str, object]:
    return {
        "namespace": "/engagement",
        "event": "alert",
        "data": {"title": title},
        "target": {"tenant": tenant_id},
    }


def test_sigkill_and_restart_loses_nothing_that_was_committed(
    server_factory: ServerFactory,
) -> None:
    live = server_factory({"PING_INTERVAL": "1", "PING_TIMEOUT": "2"})
    world = build_world(live.url, live.seed)
    client = ResumingClient(world.user_a.access_token)
    client.connect(live.url, None, ["/engagement"], auth=client.auth)
    start = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 1, "start")[0]
    client.wait_for_ids([start])

    stop = threading.Event()
    accepted: list[int] = []

    def keep_publishing() -> None:
        api = Api(live.url, api_key=world.key_a)
        n = 0
        while not stop.is_set():
            try:
                response = api.post(
                    "/api/publish", json=_alert(world.tenant_a["id"], f"rest-{n}")
                )
            except requests.RequestException:
                time.sleep(0.05)  # the server is down: retry the same event
                continue
            if response.status_code == 202:
                accepted.append(response.json()["id"])
                n += 1

    publisher = threading.Thread(target=keep_publishing)
    publisher.start()
    time.sleep(1.0)
    live.process.kill()  # SIGKILL: no goodbye to anyone
    # A second publisher keeps writing while the server is down (the CLI persists).
    offline = json.loads(
        run_flask(
            live.env,
            "publish",
            "--namespace",
            "/engagement",
            "--event",
            "alert",
            "--tenant",
            str(world.tenant_a["id"]),
            "--data",
            json.dumps({"title": "published while the server was down"}),
        )
    )["id"]
    live.process.start()
    time.sleep(1.5)
    stop.set()
    publisher.join()

    committed: list[int] = []
    while True:  # page through: a fast server accepts well over one page meanwhile
        page = Api(live.url, api_key=world.key_a).get(
            "/api/events",
            params={
                "since_id": committed[-1] if committed else start,
                "type": "alert",
                "limit": 1000,
            },
        )
        ids = [e["id"] for e in page.json()["events"]]
        if not ids:
            break
        committed.extend(ids)
    assert offline in committed
    assert set(accepted) <= set(committed)
    client.wait_for_ids(committed, timeout=30)
    assert [i for i in client.ids if i > start] == committed  # once each, in order
    assert len(client.of("welcome")) >= 2  # it reconnected by itself
    client.disconnect()


def test_replay_of_10000_events_completes_and_keeps_the_connection_healthy(
    server_factory: ServerFactory,
) -> None:
    # Heartbeats much shorter than the replay: a starved ping would drop the client.
    live = server_factory(
        {"PING_INTERVAL": "3", "PING_TIMEOUT": "5", "REPLAY_MAX_EVENTS": "20000"}
    )
    world = build_world(live.url, live.seed)
    ids = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 10_000, "bulk")
    client = ResumingClient(world.user_a.access_token, last_event_id=ids[0] - 1)
    started = time.monotonic()
    client.connect(live.url, None, ["/engagement"], auth=client.auth)
    complete = client.wait_for("replay_complete", timeout=120)[0]
    elapsed = time.monotonic() - started
    assert complete == {"count": 10_000, "last_event_id": ids[-1], "recovered": True}
    assert client.ids == ids
    print(
        f"\nreplayed 10000 events in {elapsed:.2f} s ({10_000 / elapsed:.0f} events/s)"
    )
    time.sleep(8)  # > ping interval + timeout: a starved heartbeat would drop us now
    assert client.client.connected
    assert len(client.of("welcome")) == 1  # never had to reconnect
    live_id = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 1, "after")
    client.wait_for_ids(live_id)
    client.disconnect()


def test_pruned_events_make_an_old_client_refetch(
    server_factory: ServerFactory, sockets: SocketFactory
) -> None:
    live = server_factory({"EVENT_RETENTION": "1", "REPLAY_MAX_AGE": "1"})
    world = build_world(live.url, live.seed)
    old = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 3, "old")
    time.sleep(1.5)
    output = run_flask(live.env, "prune-events")
    assert output.startswith("pruned ") and int(output.split()[1]) >= 3
    history = world.api(world.key_a).get("/api/events", params={"since_id": 0})
    assert not set(old) & {e["id"] for e in history.json()["events"]}
    fresh = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 1, "new")
    client, complete = resume(sockets, live.url, world.user_a.access_token, old[0] - 1)
    assert (complete["recovered"], complete["reason"]) == (False, "pruned")
    assert client.of("alert") == []
    # An up-to-date client is unaffected by pruning.
    current = sockets().connect(
        live.url,
        world.user_a.access_token,
        ["/engagement"],
        auth={"last_event_id": fresh[0] - 1},
    )
    assert current.wait_for("replay_complete")[0]["recovered"] is True
    assert [d["id"] for d in current.of("alert")] == fresh


def test_join_session_replays_the_session_room_from_last_event_id(
    server_factory: ServerFactory, sockets: SocketFactory
) -> None:
    live = server_factory()
    world = build_world(live.url, live.seed)
    session = world.api(world.msp_user).post(
        "/api/sessions", json={"title": "war room", "tenant_id": world.tenant_a["id"]}
    )
    assert session.status_code == 201, session.text
    session_id = session.json()["id"]
    writer = sockets().connect(live.url, world.msp_user.access_token, ["/engagement"])
    assert writer.call("join_session", {"session_id": session_id})["ok"] is True
    sent = [
        writer.call("send_message", {"session_id": session_id, "text": f"m{n}"})["id"]
        for n in range(5)
    ]
    reader = sockets().connect(live.url, world.user_a.access_token, ["/engagement"])
    ack = reader.call(
        "join_session", {"session_id": session_id, "last_event_id": sent[1]}
    )
    assert ack["ok"] is True
    assert ack["replay"] == {"count": 3, "last_event_id": sent[-1], "recovered": True}
    replayed = reader.of("session_message")
    assert [m["id"] for m in replayed] == sent[2:]
    assert all(m["replayed"] is True for m in replayed)
    live_id = writer.call("send_message", {"session_id": session_id, "text": "live"})
    reader.wait_for("session_message", lambda m: m["id"] == live_id["id"])
    other = sockets().connect(live.url, world.user_b.access_token, ["/engagement"])
    refused = other.call("join_session", {"session_id": session_id, "last_event_id": 0})
    assert refused["ok"] is False and refused["error"]["code"] == "not_found"
    assert other.of("session_message") == []


def test_tenant_events_keep_flowing_while_a_session_replays(
    server_factory: ServerFactory, sockets: SocketFactory
) -> None:
    live = server_factory({"REPLAY_MAX_EVENTS": "20000"})
    world = build_world(live.url, live.seed)
    session_id = (
        world.api(world.msp_user)
        .post(
            "/api/sessions", json={"title": "busy", "tenant_id": world.tenant_a["id"]}
        )
        .json()["id"]
    )
    writer = sockets().connect(live.url, world.msp_user.access_token, ["/engagement"])
    assert writer.call("join_session", {"session_id": session_id})["ok"] is True
    start = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 1, "mark")[0]
    for n in range(300):  # a session backlog to replay
        writer.call("send_message", {"session_id": session_id, "text": f"m{n}"})
    reader = sockets().connect(live.url, world.user_a.access_token, ["/engagement"])
    reader.wait_for("welcome")
    done = threading.Event()
    alerts: list[int] = []

    def publish_during_join() -> None:
        # Alternate tenant alerts and session messages, so the session replay
        # reads messages newer than alerts held meanwhile.
        while not done.is_set():
            alerts.extend(
                publish_alerts(live.url, world.key_a, world.tenant_a["id"], 1, "live")
            )
            writer.call("send_message", {"session_id": session_id, "text": "live"})

    publisher = threading.Thread(target=publish_during_join)
    publisher.start()
    ack = reader.call(
        "join_session", {"session_id": session_id, "last_event_id": start}, timeout=60
    )
    done.set()
    publisher.join()
    assert ack["ok"] is True and ack["replay"]["recovered"] is True
    for alert_id in alerts:
        reader.wait_for("alert", lambda e, i=alert_id: e["id"] == i)
    received = [e["id"] for e in reader.of("alert")]
    assert sorted(received) == sorted(set(received)) == sorted(alerts)


def test_a_session_joined_during_the_connect_replay_loses_no_message(
    server_factory: ServerFactory, sockets: SocketFactory
) -> None:
    live = server_factory({"REPLAY_MAX_EVENTS": "20000"})
    world = build_world(live.url, live.seed)
    session_id = (
        world.api(world.msp_user)
        .post("/api/sessions", json={"title": "s", "tenant_id": world.tenant_a["id"]})
        .json()["id"]
    )
    writer = sockets().connect(live.url, world.msp_user.access_token, ["/engagement"])
    assert writer.call("join_session", {"session_id": session_id})["ok"] is True
    missed = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 4000, "old")
    reader = ResumingClient(world.user_a.access_token, last_event_id=missed[0] - 1)
    reader.connect(live.url, None, ["/engagement"], auth=reader.auth)
    reader.wait_for("welcome")
    # Rejoin at once (as clients do on connect), while the replay is running.
    assert reader.call("join_session", {"session_id": session_id})["ok"] is True
    message = writer.call("send_message", {"session_id": session_id, "text": "hi"})
    alert = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 1, "new")[0]
    reader.wait_for("replay_complete", timeout=60)
    reader.wait_for_ids([*missed, message["id"], alert], timeout=30)
    assert len(reader.ids) == len(set(reader.ids))  # no duplicates either
    reader.disconnect()
