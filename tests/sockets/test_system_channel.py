"""/system: volatile GPU stats, persisted camera status, snapshot on connect."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.support.events import (
    Sockets,
    assert_envelope,
    assert_isolated,
    post_ok,
    received,
)
from tests.support.world import World, build_world


def gpu(index: int, utilization: float = 50.0, **fields: Any) -> dict[str, Any]:
    """One valid GPU reading."""
    return {
        "index": index,
        "utilization": utilization,
        "memory_used": 2048,
        "memory_total": 8192,
        "temperature": 61,
        "power": 120.5,
        **fields,
    }


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    """One world per module: building one costs seconds (password hashing)."""
    return build_world(server.url, server.seed)


@pytest.fixture
def fresh_world(server: LiveServer) -> World:
    """A world of its own, for tests that compare whole histories or snapshots."""
    return build_world(server.url, server.seed)


def _gpus(world: World, who: Any, *readings: dict[str, Any], **body: Any) -> Any:
    return world.api(who).post(
        "/api/system/gpu-stats", json={"gpus": list(readings), **body}
    )


def _camera(world: World, who: Any, camera: str, status: str, **body: Any) -> Any:
    return world.api(who).put(
        f"/api/system/cameras/{camera}/status", json={"status": status, **body}
    )


def test_gpu_stats_are_broadcast_to_the_tenant_and_never_persisted(
    world: World, sockets: Sockets
) -> None:
    a, b = world.tenant_a["id"], world.tenant_b["id"]
    host = "broadcast"
    user_a = sockets().connect(
        world.url, world.user_a.access_token, ["/system", "/events"]
    )
    user_b = sockets().connect(world.url, world.user_b.access_token, ["/system"])
    body = post_ok(
        _gpus(
            world, world.key_a, gpu(0, 71.5, name="A2000", host=host), gpu(1, host=host)
        ),
        202,
    )
    assert body["room"] == f"tenant:{a}"
    (envelope,) = user_a.wait_for("gpu_stats", namespace="/system")
    assert_envelope(envelope, "gpu_stats", "/system", f"tenant:{a}", a, persisted=False)
    (first, second) = [g for g in envelope["data"]["gpus"] if g["host"] == host]
    assert first == {
        **gpu(0, 71.5, name="A2000", host=host),
        "tenant_id": a,
        "updated_at": first["updated_at"],
    }
    assert second["index"] == 1 and second["name"] is None

    # Marker for B, then check nothing of A's crossed over.
    post_ok(_gpus(world, world.key_b, gpu(7)), 202)
    (theirs,) = user_b.wait_for("gpu_stats")
    assert {g["tenant_id"] for g in theirs["data"]["gpus"]} == {b}
    assert 7 in [g["index"] for g in theirs["data"]["gpus"]]
    history = world.api(world.key_a).get("/api/events", params={"type": "gpu_stats"})
    assert history.json()["events"] == []
    assert received(user_a, "/events") == []
    assert_isolated(user_a, {f"tenant:{a}", f"user:{world.user_a.id}"}, {a})


def test_only_the_latest_value_per_gpu_is_kept(world: World) -> None:
    host = "latest-kept"
    post_ok(_gpus(world, world.key_a, gpu(0, 10, host=host), gpu(0, 10)), 202)
    latest = post_ok(
        _gpus(world, world.key_a, gpu(0, 90, host=host), gpu(3, 5, host=host)), 202
    )["gpus"]
    mine = [(g["index"], g["utilization"]) for g in latest if g["host"] == host]
    assert mine == [(0, 90.0), (3, 5.0)]
    assert [g for g in latest if g["host"] == ""] != []
    status = world.api(world.user_a).get("/api/system/status").json()
    assert status["gpus"] == latest


def test_camera_status_is_persisted_and_broadcast_only_on_change(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    user_a = sockets().connect(
        world.url, world.user_a.access_token, ["/system", "/events"]
    )
    created = post_ok(_camera(world, world.key_a, "cam-3", "online"), 200)
    assert created["changed"] is True and created["camera"]["status"] == "online"
    again = post_ok(_camera(world, world.key_a, "cam-3", "online", detail="ok"), 200)
    assert again["changed"] is False and again["event"] is None
    assert again["camera"]["detail"] == "ok"
    changed = post_ok(
        _camera(world, world.key_a, "cam-3", "offline", detail="no signal"), 200
    )
    assert changed["changed"] is True

    first, second = user_a.wait_for("camera_status", namespace="/system", count=2)
    assert_envelope(first, "camera_status", "/system", f"tenant:{a}", a)
    assert first["id"] == created["event"]["id"]
    assert first["data"]["status"] == "online"
    assert first["data"]["previous_status"] is None
    assert second["id"] == changed["event"]["id"]
    assert {
        k: second["data"][k]
        for k in ("camera_id", "status", "previous_status", "detail", "tenant_id")
    } == {
        "camera_id": "cam-3",
        "status": "offline",
        "previous_status": "online",
        "detail": "no signal",
        "tenant_id": a,
    }
    assert received(user_a, "/system") == ["camera_status", "camera_status"]
    assert received(user_a, "/events") == []

    history = (
        world.api(world.user_a)
        .get("/api/events", params={"namespace": "/system"})
        .json()["events"]
    )
    cam_3 = [e for e in history if e["data"]["camera_id"] == "cam-3"]
    assert cam_3 == [first, second]


def test_system_snapshot_on_connect_reflects_the_latest_values(
    fresh_world: World, sockets: Sockets
) -> None:
    world = fresh_world
    a, b = world.tenant_a["id"], world.tenant_b["id"]
    post_ok(_gpus(world, world.key_a, gpu(0, 20)), 202)
    post_ok(_gpus(world, world.key_a, gpu(0, 80)), 202)
    post_ok(_camera(world, world.key_a, "cam-1", "online"), 200)
    post_ok(_camera(world, world.key_a, "cam-1", "error", detail="overheated"), 200)
    post_ok(_camera(world, world.key_b, "cam-9", "offline"), 200)

    user_a = sockets().connect(world.url, world.user_a.access_token, ["/system"])
    (snapshot,) = user_a.wait_for("system_snapshot", namespace="/system")
    assert [name for _, name, _ in user_a.events][:2] == ["welcome", "system_snapshot"]
    assert [g["utilization"] for g in snapshot["gpus"]] == [80.0]
    assert [
        (c["camera_id"], c["status"], c["detail"]) for c in snapshot["cameras"]
    ] == [("cam-1", "error", "overheated")]
    assert world.api(world.user_a).get("/api/system/status").json() == snapshot
    assert_isolated(user_a, {f"tenant:{a}", f"user:{world.user_a.id}"}, {a})

    msp = sockets().connect(world.url, world.msp_user.access_token, ["/system"])
    (whole,) = msp.wait_for("system_snapshot")
    assert {(c["tenant_id"], c["camera_id"]) for c in whole["cameras"]} == {
        (a, "cam-1"),
        (b, "cam-9"),
    }
    assert world.api(world.msp_user).get("/api/system/status").json() == whole
    only_b = (
        world.api(world.msp_user)
        .get("/api/system/status", params={"tenant_id": b})
        .json()
    )
    assert only_b == {
        "gpus": [],
        "cameras": [c for c in whole["cameras"] if c["tenant_id"] == b],
    }
    refused = world.api(world.user_a).get("/api/system/status", params={"tenant_id": b})
    assert refused.status_code == 404

    events = sockets().connect(world.url, world.user_a.access_token, ["/events"])
    events.wait_for("welcome")
    assert events.of("system_snapshot") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gpus": [gpu(0, 150)]}, "gpus.0.utilization"),
        ({"gpus": [gpu(0, memory_used=9000)]}, "gpus.0"),
        ({"gpus": [gpu(0, temperature=400)]}, "gpus.0.temperature"),
        ({"gpus": [gpu(0, power=-1)]}, "gpus.0.power"),
        ({"gpus": [gpu(-1)]}, "gpus.0.index"),
        (
            {"gpus": [{k: v for k, v in gpu(0).items() if k != "memory_total"}]},
            "gpus.0.memory_total",
        ),
        ({"gpus": [gpu(0, fan=3)]}, "gpus.0.fan"),
        ({"gpus": []}, "gpus"),
        ({}, "gpus"),
    ],
)
def test_invalid_gpu_stats_are_a_400_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    response = world.api(world.key_a).post("/api/system/gpu-stats", json=body)
    assert response.status_code == 400, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]


@pytest.mark.parametrize(
    ("camera", "body", "field"),
    [
        ("cam-1", {"status": "rebooting"}, "status"),
        ("cam-1", {}, "status"),
        ("cam-1", {"status": "online", "detail": "x" * 1001}, "detail"),
        ("bad%20id", {"status": "online"}, "camera_id"),
    ],
)
def test_invalid_camera_status_is_a_400_naming_the_field(
    world: World, camera: str, body: dict[str, Any], field: str
) -> None:
    response = world.api(world.key_a).put(
        f"/api/system/cameras/{camera}/status", json=body
    )
    assert response.status_code == 400, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_only_integrations_and_staff_may_write_system_state(
    world: World,
) -> None:
    a, b = world.tenant_a["id"], world.tenant_b["id"]
    assert _gpus(world, world.user_a, gpu(0)).status_code == 403
    assert _camera(world, world.user_a, "cam-1", "online").status_code == 403
    assert world.api(world.user_a).get("/api/system/status").status_code == 200
    assert _gpus(world, world.key_a, gpu(0), tenant_id=b).status_code == 404
    assert (
        _camera(world, world.key_a, "cam-1", "online", tenant_id=b).status_code == 404
    )
    assert _gpus(world, world.msp_user, gpu(0), tenant_id=a).status_code == 202
    assert (
        _camera(world, world.admin, "cam-1", "online", tenant_id=b).status_code == 200
    )
    assert world.api().get("/api/system/status").status_code == 401
