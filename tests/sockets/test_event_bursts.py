"""Bursts: 10 clients per namespace each receive all 200 events, in order."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import LiveServer
from tests.support.events import Sockets, assert_isolated
from tests.support.world import World, build_world

BURST = 200
CLIENTS = 10


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    """One world for both bursts (each test counts only what its clients got)."""
    return build_world(server.url, server.seed)


def _session(key: str) -> requests.Session:
    session = requests.Session()
    session.headers["X-API-Key"] = key
    return session


def test_ten_clients_on_events_receive_a_burst_of_200_in_order(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    members = [world.user_a, world.msp_user]
    clients = [
        sockets().connect(world.url, members[i % 2].access_token, ["/events"])
        for i in range(CLIENTS)
    ]
    http = _session(world.key_a)
    for i in range(BURST):
        response = http.post(
            world.url + "/api/events",
            json={"severity": "info", "summary": f"burst {i}", "source": "bench"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    expected = [f"burst {i}" for i in range(BURST)]
    for client in clients:
        got = client.wait_for("new_event", namespace="/events", count=BURST, timeout=30)
        assert [e["data"]["summary"] for e in got] == expected
        ids = [e["id"] for e in got]
        assert ids == sorted(ids) and len(set(ids)) == BURST
        assert all(e["room"] == f"tenant:{a}" and e["tenant_id"] == a for e in got)
        assert client.of("camera_status") == client.of("gpu_stats") == []


def test_ten_clients_on_system_receive_a_burst_of_200_in_order(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    clients = [
        sockets().connect(world.url, world.user_a.access_token, ["/system"])
        for _ in range(CLIENTS)
    ]
    http = _session(world.key_a)
    # Persisted camera changes and volatile GPU stats, interleaved.
    for i in range(BURST // 2):
        status = "online" if i % 2 == 0 else "offline"
        response = http.put(
            world.url + "/api/system/cameras/cam-burst/status",
            json={"status": status, "detail": f"c{i}"},
            timeout=30,
        )
        assert response.status_code == 200 and response.json()["changed"], response.text
        gpu = {
            "index": 0,
            "utilization": i / 2,
            "memory_used": i,
            "memory_total": 1000,
            "temperature": 50,
            "power": 100,
        }
        response = http.post(
            world.url + "/api/system/gpu-stats", json={"gpus": [gpu]}, timeout=30
        )
        assert response.status_code == 202, response.text
    expected: list[tuple[str, object]] = []
    for i in range(BURST // 2):
        expected += [("camera_status", f"c{i}"), ("gpu_stats", i / 2)]
    for client in clients:
        client.wait_for("gpu_stats", namespace="/system", count=BURST // 2, timeout=30)
        got = [
            (
                name,
                data["data"]["detail"]
                if name == "camera_status"
                else data["data"]["gpus"][0]["utilization"],
            )
            for ns, name, data in client.events
            if name in ("camera_status", "gpu_stats")
        ]
        assert got == expected
        assert_isolated(client, {f"tenant:{a}", f"user:{world.user_a.id}"}, {a})
