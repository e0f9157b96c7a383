"""What a client sees right after connecting, in wire order (raw engine.io).

The welcome (and the namespace's snapshot) go out from the greenthread that read
the client's CONNECT, right after python-socketio's acknowledgement: no task
per connection polls for it. These tests pin the order that makes correct:
CONNECT, welcome, snapshot, then replay and live events, and the answer to an
event the client sent in the same breath as its CONNECT comes after all that.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import websocket

from tests.support.world import World, publish_alerts


def _open(world: World) -> websocket.WebSocket:
    url = (
        world.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    )
    raw = websocket.create_connection(url, timeout=10)
    assert raw.recv().startswith("0{")  # engine.io OPEN
    return raw


def _frames(raw: websocket.WebSocket, namespace: str, until: str) -> list[str]:
    """Socket.IO frames of ``namespace`` up to and including one starting ``until``."""
    frames: list[str] = []
    while not (frames and frames[-1].startswith(until)):
        frame = raw.recv()
        if frame == "2":  # engine.io PING
            raw.send("3")
            continue
        assert frame.startswith(("40" + namespace, "42" + namespace, "43" + namespace))
        frames.append(frame)
    return frames


def _event(frame: str) -> tuple[str, Any]:
    name, *args = json.loads(frame[frame.index(",") + 1 :])
    return name, (args[0] if args else None)


SNAPSHOTS = {
    "/engagement": None,
    "/events": None,
    "/system": "system_snapshot",
    "/dashboard": "analytics_update",
}


@pytest.mark.parametrize("namespace", sorted(SNAPSHOTS))
def test_connect_then_welcome_then_snapshot_then_the_first_event_answer(
    world: World, namespace: str
) -> None:
    raw = _open(world)
    try:
        auth = json.dumps({"token": world.user_a.access_token})
        # The first event is in flight before the CONNECT is even answered.
        raw.send(f"40{namespace},{auth}")
        raw.send(f'42{namespace},7["no_such_event"]')
        frames = _frames(raw, namespace, f"43{namespace},7")
    finally:
        raw.close()
    assert frames[0].startswith(f"40{namespace},{{"), frames
    names = [_event(frame)[0] for frame in frames[1:-1]]
    snapshot = SNAPSHOTS[namespace]
    assert names == ["welcome"] + ([snapshot] if snapshot else []), frames
    welcome = _event(frames[1])[1]
    assert welcome["namespace"] == namespace
    assert welcome["user"]["id"] == world.user_a.id
    ack = json.loads(frames[-1][frames[-1].index(",") + 2 :])
    assert ack[0]["error"]["code"] == "unknown_event"


def test_welcome_then_replay_then_replay_complete_then_live(world: World) -> None:
    tenant = world.tenant_a["id"]
    missed = publish_alerts(world.url, world.key_a, tenant, 3, "r2-missed")
    raw = _open(world)
    try:
        auth = {"token": world.user_a.access_token, "last_event_id": missed[0] - 1}
        raw.send("40/engagement," + json.dumps(auth))
        frames = _frames(raw, "/engagement", '42/engagement,["replay_complete"')
        live = publish_alerts(world.url, world.key_a, tenant, 1, "r2-live")
        after = _frames(raw, "/engagement", '42/engagement,["alert"')
    finally:
        raw.close()
    assert frames[0].startswith("40/engagement,{")
    events = [_event(frame) for frame in frames[1:]]
    assert [name for name, _ in events] == ["welcome", "alert", "alert", "alert"] + [
        "replay_complete"
    ]
    replayed = [data for name, data in events if name == "alert"]
    assert [e["id"] for e in replayed] == missed
    assert all(e["replayed"] is True for e in replayed)
    assert events[-1][1] == {
        "count": 3,
        "last_event_id": missed[-1],
        "recovered": True,
    }
    name, data = _event(after[-1])
    assert (name, data["id"]) == ("alert", live[0])
    assert "replayed" not in data


def test_another_tenant_gets_no_welcome_replay_of_tenant_a(world: World) -> None:
    missed = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 2, "r2-a")
    raw = _open(world)
    try:
        auth = {"token": world.user_b.access_token, "last_event_id": missed[0] - 1}
        raw.send("40/engagement," + json.dumps(auth))
        frames = _frames(raw, "/engagement", '42/engagement,["replay_complete"')
    finally:
        raw.close()
    events = [_event(frame) for frame in frames[1:]]
    assert [name for name, _ in events] == ["welcome", "replay_complete"]
    assert events[0][1]["user"]["id"] == world.user_b.id
    assert events[1][1]["count"] == 0
