"""Publish API edges: idempotency conflicts, one error shape, ids and depth limits.

Every test runs on SQLite and on PostgreSQL (the shared PostgreSQL + Redis pair).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.support.cluster_pair import pair  # noqa: F401 - module-scoped fixture
from tests.support.world import World, build_world
from webapp.auth.identity import INTEGRATION_ROLE, Identity
from webapp.errors import NotFound, ValidationFailed
from webapp.extensions import db
from webapp.models import Event, Tenant
from webapp.services.delivery import publish_request, publisher

MAX_ID = 2**63 - 1


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest) -> World:
    """A fresh tenant tree on the SQLite server or the PostgreSQL pair."""
    name = "server" if request.param == "sqlite" else "pair"
    live = request.getfixturevalue(name)
    live = live[0] if isinstance(live, list) else live
    return build_world(live.url, live.seed)


def _alert(tenant_id: int, title: str = "t", **extra: Any) -> dict[str, Any]:
    return {
        "namespace": "/engagement",
        "event": "alert",
        "data": {"title": title, "severity": "high"},
        "target": {"tenant": tenant_id},
        **extra,
    }


def _history_ids(world: World, key: str) -> list[int]:
    events = world.api(world.key_a).get("/api/events", params={"limit": 500}).json()
    return [e["id"] for e in events["events"]]


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_same_idempotency_key_with_another_body_is_a_conflict(world: World) -> None:
    api = world.api(world.key_a)
    key = uuid.uuid4().hex
    tenant = world.tenant_a["id"]
    first = api.post("/api/publish", json=_alert(tenant, "one", idempotency_key=key))
    assert first.status_code == 202, first.text
    other = api.post("/api/publish", json=_alert(tenant, "two", idempotency_key=key))
    assert other.status_code == 409, other.text
    error = other.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["details"][0]["field"] == "idempotency_key"
    # The first result stands: the same body still answers with it.
    again = api.post("/api/publish", json=_alert(tenant, "one", idempotency_key=key))
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.json()["duplicate"]
    ids = _history_ids(world, key)
    assert ids.count(first.json()["id"]) == 1
    assert len([i for i in ids if i > first.json()["id"]]) == 0, "nothing else stored"


def test_batch_with_a_conflicting_key_stores_nothing_and_names_the_index(
    world: World,
) -> None:
    api = world.api(world.key_a)
    key = uuid.uuid4().hex
    tenant = world.tenant_a["id"]
    first = api.post("/api/publish", json=_alert(tenant, "one", idempotency_key=key))
    batch = [_alert(tenant, "fresh"), _alert(tenant, "changed", idempotency_key=key)]
    response = api.post("/api/publish/batch", json=batch)
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["details"][0]["index"] == 1
    assert max(_history_ids(world, key)) == first.json()["id"], "batch stored nothing"
    # The same key twice in one batch with two bodies is a conflict as well.
    key2 = uuid.uuid4().hex
    twice = [
        _alert(tenant, "x", idempotency_key=key2),
        _alert(tenant, "y", idempotency_key=key2),
    ]
    response = api.post("/api/publish/batch", json=twice)
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["index"] == 1
    # ...and with the same body, one event answers both items.
    same = [_alert(tenant, "z", idempotency_key=key2)] * 2
    results = api.post("/api/publish/batch", json=same).json()["results"]
    assert results[0]["id"] == results[1]["id"] and results[1]["duplicate"]


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda body: body["data"].pop("title"), id="schema"),
        pytest.param(lambda body: body.update(extra=1), id="body"),
        pytest.param(lambda body: body.update(target={"galaxy": 1}), id="target"),
    ],
)
def test_single_and_batch_errors_share_one_details_shape(
    world: World, mutate: Any
) -> None:
    api = world.api(world.key_a)
    bad = _alert(world.tenant_a["id"])
    mutate(bad)
    single = api.post("/api/publish", json=bad)
    batch = api.post("/api/publish/batch", json=[_alert(world.tenant_a["id"]), bad])
    assert single.status_code == batch.status_code == 400
    one, many = single.json()["error"]["details"], batch.json()["error"]["details"]
    assert isinstance(one, list) and isinstance(many, list) and one and many
    for entry in one:
        assert set(entry) == {"field", "message"}, entry
    for entry in many:
        assert set(entry) == {"field", "message", "index"}, entry
        assert entry["index"] == 1
    assert [e["field"] for e in one] == [e["field"] for e in many]


@pytest.mark.parametrize("kind", ["tenant", "user", "msp", "session"])
@pytest.mark.parametrize("target_id", [MAX_ID + 1, 2**64, 0, -1])
def test_target_ids_outside_64_bit_are_not_found(
    world: World, kind: str, target_id: int
) -> None:
    api = world.api(world.key_msp)
    body = {
        "namespace": "/engagement",
        "event": "alert",
        "data": {"title": "x", "severity": "high"},
        "target": {kind: target_id},
    }
    for path, payload in (("/api/publish", body), ("/api/publish/batch", [body])):
        response = api.post(path, json=payload)
        assert response.status_code in (400, 404), response.text
        assert response.json()["error"]["code"] in ("not_found", "target_not_allowed")


def test_data_nested_too_deep_is_400_single_and_batch(world: World) -> None:
    # Whichever guard answers (the request body's or the publish path's), the
    # answer is 400 too_deep; the publish path's own is tested in-process below.
    api = world.api(world.key_a)
    for depth in (40, 900):
        body = _alert(world.tenant_a["id"])
        body["data"]["tags"] = _nested(depth)
        single = api.post("/api/publish", json=body)
        assert single.status_code == 400, single.text[:300]
        assert single.json()["error"]["code"] == "too_deep"
        batch = api.post(
            "/api/publish/batch", json=[_alert(world.tenant_a["id"]), body]
        )
        assert batch.status_code == 400, batch.text[:300]
        assert batch.json()["error"]["code"] == "too_deep"


def test_idempotency_key_with_nul_is_refused(world: World) -> None:
    response = world.api(world.key_a).post(
        "/api/publish", json=_alert(world.tenant_a["id"], idempotency_key="a\x00b")
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def _integration(tenant_id: int) -> Identity:
    return Identity(
        tenant_id=tenant_id,
        role=INTEGRATION_ROLE,
        tenant_kind="client",
        name="test",
        visible_tenant_ids=(tenant_id,),
    )


def test_the_publish_path_itself_refuses_deep_data_for_services_and_batches(
    app: Flask,
) -> None:
    db.session.add(Tenant(name="deep", kind="client"))
    db.session.commit()
    deep = {"title": "x", "severity": "low", "tags": _nested(40)}
    with pytest.raises(ValidationFailed) as service:
        publisher.publish_to_room("/engagement", "alert", deep, "tenant:1", 1)
    assert service.value.code == "too_deep"
    items = [
        publish_request.BatchItem(
            "/engagement", "alert", {**deep, "tags": []}, {"tenant": 1}
        ),
        publish_request.BatchItem("/engagement", "alert", deep, {"tenant": 1}),
    ]
    with pytest.raises(ValidationFailed) as batch:
        publisher.publish_batch(_integration(1), items)
    assert batch.value.code == "too_deep"
    assert batch.value.details[0]["index"] == 1
    with pytest.raises(ValidationFailed) as nul:
        publisher.publish_to_room(
            "/engagement",
            "alert",
            {"title": "x", "severity": "low"},
            "tenant:1",
            1,
            idempotency_key="a\x00b",
        )
    assert nul.value.details[0]["field"] == "idempotency_key"
    with pytest.raises(NotFound):
        publisher.publish_as(
            _integration(1), "/engagement", "alert", {"title": "x"}, {"tenant": 2**64}
        )
    assert db.session.scalar(select(func.count(Event.id))) == 0


def test_a_conflict_is_per_tenant(world: World) -> None:
    key = uuid.uuid4().hex
    a = world.api(world.key_a).post(
        "/api/publish", json=_alert(world.tenant_a["id"], "a", idempotency_key=key)
    )
    b = world.api(world.key_b).post(
        "/api/publish", json=_alert(world.tenant_b["id"], "b", idempotency_key=key)
    )
    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"] and not b.json()["duplicate"]
