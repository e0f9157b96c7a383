"""Tenants, users and API keys with role checks (docs/architecture.md §3)."""

from __future__ import annotations

from tests.support.server import LiveServer
from tests.support.sockets import SocketFactory
from tests.support.world import World


def test_admin_creates_tenants_and_users(world: World) -> None:
    response = world.api(world.admin).post(
        f"/api/tenants/{world.tenant_a['id']}/users",
        json={
            "email": "new-user@x.test",
            "password": "long-enough-pw",
            "name": "N",
            "role": "client",
        },
    )
    assert response.status_code in (201, 409)
    if response.status_code == 201:
        assert set(response.json()) == {"id", "email", "name", "role", "tenant_id"}


def test_msp_user_sees_its_tenant_and_its_clients_only(
    world: World, server: LiveServer
) -> None:
    from tests.support.world import build_world

    other = build_world(server.url, server.seed)
    ids = {
        t["id"] for t in world.api(world.msp_user).get("/api/tenants").json()["tenants"]
    }
    assert ids == {world.msp_tenant["id"], world.tenant_a["id"], world.tenant_b["id"]}
    assert other.tenant_a["id"] not in ids


def test_client_user_sees_only_its_tenant(world: World) -> None:
    tenants = world.api(world.user_a).get("/api/tenants").json()["tenants"]
    assert [t["id"] for t in tenants] == [world.tenant_a["id"]]


def test_msp_user_creates_client_tenants_under_itself_only(world: World) -> None:
    api = world.api(world.msp_user)
    created = api.post(
        "/api/tenants", json={"name": f"c-{world.tenant_a['id']}-new", "kind": "client"}
    )
    assert created.status_code == 201
    assert created.json()["parent_id"] == world.msp_tenant["id"]
    assert (
        api.post("/api/tenants", json={"name": "rogue msp", "kind": "msp"}).status_code
        == 403
    )


def test_client_user_cannot_manage_anything(world: World) -> None:
    api = world.api(world.user_a)
    assert (
        api.post("/api/tenants", json={"name": "x", "kind": "client"}).status_code
        == 403
    )
    assert (
        api.post(
            f"/api/tenants/{world.tenant_a['id']}/api-keys", json={"name": "k"}
        ).status_code
        == 403
    )


def test_msp_cannot_touch_another_msps_tenants(
    world: World, server: LiveServer
) -> None:
    from tests.support.world import build_world

    other = build_world(server.url, server.seed)
    api = world.api(world.msp_user)
    response = api.post(
        f"/api/tenants/{other.tenant_a['id']}/api-keys", json={"name": "k"}
    )
    assert response.status_code == 404
    response = api.post(
        f"/api/tenants/{other.tenant_a['id']}/users",
        json={
            "email": "x@y.test",
            "password": "long-enough-pw",
            "name": "x",
            "role": "client",
        },
    )
    assert response.status_code == 404


def test_msp_cannot_create_admins(world: World) -> None:
    response = world.api(world.msp_user).post(
        f"/api/tenants/{world.msp_tenant['id']}/users",
        json={
            "email": "boss@x.test",
            "password": "long-enough-pw",
            "name": "B",
            "role": "admin",
        },
    )
    assert response.status_code == 403


def test_api_key_is_shown_once_and_stored_hashed(world: World) -> None:
    api = world.api(world.admin)
    created = api.post(
        f"/api/tenants/{world.tenant_a['id']}/api-keys", json={"name": "ci"}
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "prefix", "key"}
    listed = api.get(f"/api/tenants/{world.tenant_a['id']}/api-keys").json()["api_keys"]
    entry = next(k for k in listed if k["id"] == body["id"])
    assert "key" not in entry and body["key"] not in str(listed)
    assert entry["prefix"] == body["prefix"]


def test_duplicate_email_is_a_conflict(world: World) -> None:
    response = world.api(world.admin).post(
        f"/api/tenants/{world.tenant_a['id']}/users",
        json={
            "email": world.user_b.email,
            "password": "long-enough-pw",
            "name": "dup",
            "role": "client",
        },
    )
    assert response.status_code == 409


def test_connected_msp_staff_see_a_client_tenant_created_after_they_connected(
    world: World, sockets: SocketFactory
) -> None:
    staff = sockets().connect(world.url, world.msp_user.access_token, ["/engagement"])
    staff.wait_for("welcome")
    created = world.api(world.msp_user).post(
        "/api/tenants",
        json={"name": f"late-{world.msp_tenant['id']}", "kind": "client"},
    )
    assert created.status_code == 201
    tenant_id = created.json()["id"]
    key = (
        world.api(world.admin)
        .post(f"/api/tenants/{tenant_id}/api-keys", json={"name": "k"})
        .json()["key"]
    )
    published = world.api(key).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": "from the new client"},
            "target": {"tenant": tenant_id},
        },
    )
    assert published.status_code == 202
    staff.wait_for("alert", lambda e: e["tenant_id"] == tenant_id)
    session = world.api(world.msp_user).post(
        "/api/sessions", json={"title": "kickoff", "tenant_id": tenant_id}
    )
    assert session.status_code == 201, session.text
    ack = staff.call("join_session", {"session_id": session.json()["id"]})
    assert ack["ok"] is True  # no reconnect needed
    assert len(staff.of("alert")) == 1


def test_admin_reaches_other_tenants_data_only_on_explicit_request(
    world: World,
) -> None:
    published = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": "for the admin to find"},
            "target": {"tenant": world.tenant_a["id"]},
        },
    )
    event_id = published.json()["id"]
    since = {"since_id": event_id - 1}
    admin = world.api(world.admin)
    default = admin.get("/api/events", params=since).json()["events"]
    assert event_id not in [e["id"] for e in default]  # not the admin's own tenant
    explicit = admin.get(
        "/api/events", params={**since, "tenant_id": world.tenant_a["id"]}
    ).json()["events"]
    assert event_id in [e["id"] for e in explicit]
    # Anyone else asking for a tenant they cannot see gets 404, never data.
    denied = world.api(world.user_b).get(
        "/api/events", params={"tenant_id": world.tenant_a["id"]}
    )
    assert denied.status_code == 404
    assert {t["id"] for t in admin.get("/api/tenants").json()["tenants"]} >= {
        world.tenant_a["id"],
        world.tenant_b["id"],
    }  # the platform's tenant registry stays complete for admins
