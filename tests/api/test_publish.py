"""The publish API and the one publish path: routing, isolation, idempotency."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.support.server import LiveServer
from tests.support.sockets import SocketFactory, SocketRecorder
from tests.support.world import World


def _alert(tenant_id: int, title: str = "t", **extra: Any) -> dict[str, Any]:
    return {
        "namespace": "/engagement",
        "event": "alert",
        "data": {"title": title, "severity": "high"},
        "target": {"tenant": tenant_id},
        **extra,
    }


def _connect_all(
    world: World,
    sockets: SocketFactory,
    namespaces: tuple[str, ...] = ("/engagement", "/events"),
) -> dict[str, SocketRecorder]:
    return {
        "a": sockets().connect(world.url, world.user_a.access_token, namespaces),
        "b": sockets().connect(world.url, world.user_b.access_token, namespaces),
        "msp": sockets().connect(world.url, world.msp_user.access_token, namespaces),
    }


def test_publish_reaches_the_tenant_and_its_msp_never_the_sibling_or_other_namespace(
    world: World,
    sockets: SocketFactory,
) -> None:
    clients = _connect_all(world, sockets)
    title = uuid.uuid4().hex
    response = world.api(world.key_a).post(
        "/api/publish", json=_alert(world.tenant_a["id"], title)
    )
    assert response.status_code == 202
    body = response.json()
    assert body["event"] == "alert" and body["room"] == f"tenant:{world.tenant_a['id']}"
    for who in ("a", "msp"):
        (envelope,) = clients[who].wait_for(
            "alert", lambda d: d["data"]["title"] == title
        )
        assert envelope == {
            "id": body["id"],
            "type": "alert",
            "namespace": "/engagement",
            "tenant_id": world.tenant_a["id"],
            "room": f"tenant:{world.tenant_a['id']}",
            "data": {
                "title": title,
                "severity": "high",
                "message": "",
                "engagement_id": None,
            },
            "timestamp": envelope["timestamp"],
        }
        assert envelope["timestamp"].endswith("Z")
    time.sleep(0.5)
    assert clients["b"].of("alert") == []
    for recorder in clients.values():
        assert recorder.of("alert", namespace="/events") == []


def test_msp_only_publish_reaches_only_msp_staff(
    world: World, sockets: SocketFactory
) -> None:
    clients = _connect_all(world, sockets)
    payload = _alert(0, "staff only")
    payload["target"] = {"msp": world.msp_tenant["id"]}
    response = world.api(world.key_msp).post("/api/publish", json=payload)
    assert response.status_code == 202, response.text
    assert response.json()["room"] == f"msp:{world.msp_tenant['id']}"
    clients["msp"].wait_for("alert", lambda d: d["data"]["title"] == "staff only")
    time.sleep(0.5)
    assert clients["a"].of("alert") == [] and clients["b"].of("alert") == []


def test_client_key_cannot_target_msp_room(world: World) -> None:
    payload = _alert(0)
    payload["target"] = {"msp": world.msp_tenant["id"]}
    assert world.api(world.key_a).post("/api/publish", json=payload).status_code == 404


def test_api_key_of_one_tenant_cannot_target_another(
    world: World, sockets: SocketFactory
) -> None:
    victim = sockets().connect(world.url, world.user_b.access_token, ["/engagement"])
    response = world.api(world.key_a).post(
        "/api/publish", json=_alert(world.tenant_b["id"])
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    time.sleep(0.3)
    assert victim.of("alert") == []


def test_msp_key_may_target_its_clients_but_not_other_msps(
    world: World, server: LiveServer
) -> None:
    from tests.support.world import build_world

    assert (
        world.api(world.key_msp)
        .post("/api/publish", json=_alert(world.tenant_b["id"]))
        .status_code
        == 202
    )
    other = build_world(server.url, server.seed)
    response = world.api(world.key_msp).post(
        "/api/publish", json=_alert(other.tenant_a["id"])
    )
    assert response.status_code == 404


def test_client_users_may_not_publish(world: World) -> None:
    response = world.api(world.user_a).post(
        "/api/publish", json=_alert(world.tenant_a["id"])
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_idempotent_publish_emits_once(world: World, sockets: SocketFactory) -> None:
    client = sockets().connect(world.url, world.user_a.access_token, ["/engagement"])
    key = uuid.uuid4().hex
    first = world.api(world.key_a).post(
        "/api/publish", json=_alert(world.tenant_a["id"], "once", idempotency_key=key)
    )
    second = world.api(world.key_a).post(
        "/api/publish", json=_alert(world.tenant_a["id"], "once", idempotency_key=key)
    )
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["duplicate"] is True
    client.wait_for("alert")
    time.sleep(0.5)
    assert len(client.of("alert")) == 1
    history = world.api(world.key_a).get("/api/events", params={"type": "alert"}).json()
    assert [e["id"] for e in history["events"]].count(first.json()["id"]) == 1


def test_validation_errors_name_the_fields(world: World) -> None:
    api = world.api(world.key_a)
    bad_data = _alert(world.tenant_a["id"])
    bad_data["data"] = {"severity": "apocalyptic"}
    response = api.post("/api/publish", json=bad_data)
    assert response.status_code == 400
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"severity", "title"} <= fields
    unknown = api.post(
        "/api/publish", json={**_alert(world.tenant_a["id"]), "event": "nope"}
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "unknown_event"
    no_target = _alert(world.tenant_a["id"])
    no_target["target"] = {"galaxy": 1}
    assert api.post("/api/publish", json=no_target).status_code == 400
    server_only = {**_alert(world.tenant_a["id"]), "event": "user_joined"}
    assert api.post("/api/publish", json=server_only).status_code == 403


def test_bad_or_revoked_api_key_is_401(world: World) -> None:
    from tests.support.world import Api

    assert (
        Api(world.url, api_key="sb_nope_nope")
        .post("/api/publish", json=_alert(world.tenant_a["id"]))
        .status_code
        == 401
    )
    created = (
        world.api(world.admin)
        .post(f"/api/tenants/{world.tenant_a['id']}/api-keys", json={"name": "temp"})
        .json()
    )
    assert (
        world.api(world.admin)
        .delete(f"/api/tenants/{world.tenant_a['id']}/api-keys/{created['id']}")
        .status_code
        == 204
    )
    response = Api(world.url, api_key=created["key"]).post(
        "/api/publish", json=_alert(world.tenant_a["id"])
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_batch_publish_is_validated_first_then_delivered_in_order(
    world: World,
    sockets: SocketFactory,
) -> None:
    client = sockets().connect(world.url, world.user_a.access_token, ["/engagement"])
    api = world.api(world.key_a)
    bad = [_alert(world.tenant_a["id"], "ok"), _alert(world.tenant_b["id"], "not mine")]
    assert api.post("/api/publish/batch", json=bad).status_code == 404
    time.sleep(0.3)
    assert client.of("alert") == []  # nothing from a rejected batch
    good = [_alert(world.tenant_a["id"], f"n{i}") for i in range(5)]
    response = api.post("/api/publish/batch", json=good)
    assert response.status_code == 202
    ids = [r["id"] for r in response.json()["results"]]
    assert ids == sorted(ids)
    received = client.wait_for("alert", count=5)
    assert [d["id"] for d in received] == ids


def test_history_is_tenant_scoped_and_ordered(world: World) -> None:
    a = (
        world.api(world.key_a)
        .post("/api/publish", json=_alert(world.tenant_a["id"]))
        .json()
    )
    b = (
        world.api(world.key_b)
        .post("/api/publish", json=_alert(world.tenant_b["id"]))
        .json()
    )
    mine = (
        world.api(world.user_a)
        .get("/api/events", params={"since_id": a["id"] - 1})
        .json()
    )
    ids = [e["id"] for e in mine["events"]]
    assert a["id"] in ids and b["id"] not in ids
    assert ids == sorted(ids)
    msp = (
        world.api(world.msp_user)
        .get("/api/events", params={"since_id": a["id"] - 1})
        .json()
    )
    assert {a["id"], b["id"]} <= {e["id"] for e in msp["events"]}
    assert (
        world.api(world.user_a).get("/api/events", params={"since_id": "x"}).status_code
        == 400
    )


def test_user_room_events_are_private_to_that_user(world: World) -> None:
    other = world.add_user(world.tenant_a["id"])
    payload = {
        "namespace": "/engagement",
        "event": "alert",
        "data": {"title": "just for you"},
        "target": {"user": world.user_a.id},
    }
    event_id = world.api(world.key_a).post("/api/publish", json=payload).json()["id"]
    params = {"since_id": event_id - 1}
    assert event_id in [
        e["id"]
        for e in world.api(world.user_a)
        .get("/api/events", params=params)
        .json()["events"]
    ]
    assert event_id not in [
        e["id"]
        for e in world.api(other).get("/api/events", params=params).json()["events"]
    ]
