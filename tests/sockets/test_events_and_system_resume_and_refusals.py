"""Source 004 (security-events and system channels) on /events and /system.

What the old ``/ws/events`` and ``/ws/system`` suites tested that the rest of
tests/ does not: reconnection, a failed connection during a broadcast, no leaks
after many connect/disconnect cycles, and invalid paths. Every check here runs
against the live server with real ``socketio.Client``s.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
import requests
import socketio

from tests.support.events import Sockets, assert_envelope, post_ok, received
from tests.support.server import ROOT
from tests.support.sockets import SocketRecorder, connect_refusal
from tests.support.world import World

EVENT = {"severity": "high", "summary": "Door forced open", "source": "front-door"}

# A real client in its own process, so a test can SIGKILL it (no disconnect packet).
KILLABLE = r"""
import sys, socketio
client = socketio.Client(reconnection=False)
client.connect(sys.argv[1], namespaces=["/events", "/system"],
               auth={"token": sys.argv[2]}, transports=["websocket"], wait_timeout=10)
print("connected", flush=True)
client.wait()
"""


def _stats(world: World) -> dict[str, Any]:
    response = world.api(world.msp_user).get("/ws/stats")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _tenant_connections(world: World, tenant_id: int) -> dict[str, Any]:
    return dict(_stats(world)["tenants"][str(tenant_id)])


def _settle(check: Any, timeout: float = 5.0) -> None:
    """Poll a REST-observable condition until it holds (disconnects are async)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


def _new_event(world: World, summary: str) -> dict[str, Any]:
    return post_ok(
        world.api(world.key_a).post("/api/events", json={**EVENT, "summary": summary})
    )


def _camera(world: World, camera: str, status: str) -> dict[str, Any]:
    return post_ok(
        world.api(world.key_a).put(
            f"/api/system/cameras/{camera}/status", json={"status": status}
        ),
        200,
    )


def test_events_and_system_clients_reconnect_and_resume_where_they_left_off(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    first = sockets().connect(
        world.url, world.user_a.access_token, ["/events", "/system"]
    )
    seen_event = _new_event(world, "before")["event"]["id"]
    seen_camera = _camera(world, "cam-reconnect", "online")["event"]["id"]
    first.wait_for("new_event", namespace="/events")
    first.wait_for("camera_status", namespace="/system")
    first.disconnect()

    missed_event = _new_event(world, "while away")
    missed_camera = _camera(world, "cam-reconnect", "offline")
    last_seen = max(seen_event, seen_camera)
    again = sockets().connect(
        world.url,
        world.user_a.access_token,
        ["/events", "/system"],
        auth={"last_event_id": last_seen},
    )
    (events_done,) = again.wait_for("replay_complete", namespace="/events")
    (system_done,) = again.wait_for("replay_complete", namespace="/system")
    (replayed_event,) = again.of("new_event", "/events")
    assert replayed_event["replayed"] is True
    assert replayed_event["id"] == missed_event["event"]["id"]
    assert replayed_event["data"]["summary"] == "while away"
    (replayed_camera,) = again.of("camera_status", "/system")
    assert replayed_camera["replayed"] is True
    assert replayed_camera["id"] == missed_camera["event"]["id"]
    assert events_done["recovered"] is system_done["recovered"] is True

    # Live again on both channels after the reconnection.
    live = _new_event(world, "after")
    (_, after) = again.wait_for("new_event", namespace="/events", count=2)
    assert_envelope(after, "new_event", "/events", f"tenant:{a}", a)
    assert after["id"] == live["event"]["id"] and "replayed" not in after
    _camera(world, "cam-reconnect", "error")
    again.wait_for("camera_status", namespace="/system", count=2)


def test_replay_on_a_channel_never_carries_another_channels_events(
    world: World, sockets: Sockets
) -> None:
    first = sockets().connect(world.url, world.user_a.access_token, ["/system"])
    (snapshot,) = first.wait_for("system_snapshot", namespace="/system")
    assert snapshot is not None
    baseline = _camera(world, "cam-isolated", "online")["event"]["id"]
    first.wait_for("camera_status", namespace="/system")
    first.disconnect()

    # While away: one event on each of the other namespaces, one on /system.
    _new_event(world, "for /events only")
    response = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": "for /engagement only"},
            "target": {"tenant": world.tenant_a["id"]},
        },
    )
    assert response.status_code == 202, response.text
    missed = _camera(world, "cam-isolated", "offline")["event"]["id"]

    again = sockets().connect(
        world.url,
        world.user_a.access_token,
        ["/system"],
        auth={"last_event_id": baseline},
    )
    (done,) = again.wait_for("replay_complete", namespace="/system")
    assert received(again, "/system") == ["camera_status"]
    assert [e["id"] for e in again.of("camera_status", "/system")] == [missed]
    assert done == {"count": 1, "last_event_id": missed, "recovered": True}


def test_a_killed_connection_does_not_stop_event_detection_or_camera_broadcasts(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    survivors = [
        sockets().connect(world.url, world.user_a.access_token, ["/events", "/system"])
        for _ in range(2)
    ]
    process = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, world.url, world.user_a.access_token],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "connected"
        assert _tenant_connections(world, a)["total"] == 6
    finally:
        process.kill()  # SIGKILL: the socket closes without a disconnect packet
        process.wait(10)
        process.stdout.close()

    # Broadcast at once, while the server may still hold the dead connection.
    event = _new_event(world, "after the crash")
    detection = post_ok(
        world.api(world.key_a).post(
            "/api/detections",
            json={"event_id": event["id"], "label": "person", "confidence": 0.9},
        )
    )
    camera = _camera(world, "cam-crash", "online")
    for recorder in survivors:
        (got,) = recorder.wait_for("new_event", namespace="/events")
        assert got["id"] == event["event"]["id"]
        (found,) = recorder.wait_for("detection", namespace="/events")
        assert found["id"] == detection["event"]["id"]
        (status,) = recorder.wait_for("camera_status", namespace="/system")
        assert status["id"] == camera["event"]["id"]
    # The dead connection is cleaned up; the survivors are untouched.
    _settle(lambda: _tenant_connections(world, a)["total"] == 4)
    assert all(r.client.connected for r in survivors)


def test_connect_disconnect_cycles_on_events_and_system_leak_no_connections(
    world: World,
) -> None:
    a = world.tenant_a["id"]

    assert _tenant_connections(world, a)["total"] == 0
    cycles = [["/events"], ["/system"], ["/events", "/system"]] * 5
    for namespaces in cycles:
        recorder = SocketRecorder().connect(
            world.url, world.user_a.access_token, namespaces
        )
        for namespace in namespaces:
            recorder.wait_for("welcome", namespace=namespace)
        counted = _tenant_connections(world, a)
        assert counted["namespaces"] == {ns: 1 for ns in namespaces}, counted
        recorder.disconnect()
        _settle(lambda: _tenant_connections(world, a)["total"] == 0)
    assert _tenant_connections(world, a) == {"total": 0, "namespaces": {}}


def test_unknown_channels_and_legacy_paths_are_refused_and_the_server_stays_healthy(
    world: World, sockets: Sockets
) -> None:
    for namespace in ("/ws/events", "/nonexistent"):
        recorder = SocketRecorder()
        with pytest.raises(socketio.exceptions.ConnectionError):
            recorder.client.connect(
                world.url,
                namespaces=[namespace],
                auth={"token": world.user_a.access_token},
                transports=["websocket"],
                wait_timeout=5,
            )
        recorder.disconnect()
    # The old raw-WebSocket endpoints are plain 404s in the error shape.
    for path in ("/ws/events", "/ws/system", "/ws/dashboard"):
        response = requests.get(world.url + path, timeout=10)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert connect_refusal(world.url, {}, "/events")["message"] == "missing_token"
    healthy = sockets().connect(world.url, world.user_a.access_token, ["/events"])
    _new_event(world, "still serving")
    healthy.wait_for("new_event", namespace="/events")
    assert requests.get(world.url + "/health", timeout=10).json() == {"status": "ok"}
