"""REST /api/sessions: creating, listing and reading collaboration sessions."""

from __future__ import annotations

import pytest

from tests.conftest import LiveServer
from tests.support.engagement import new_engagement, new_session
from tests.support.world import World, build_world


@pytest.fixture(scope="module")
def shared_world(server: LiveServer) -> World:
    """One tenant tree for the module: every test makes its own sessions."""
    return build_world(server.url, server.seed)


def test_a_client_user_creates_a_session_in_its_own_tenant(
    shared_world: World,
) -> None:
    world = shared_world
    session = new_session(world, world.user_a, title="Kick-off")
    assert session["tenant_id"] == world.tenant_a["id"]
    assert session["title"] == "Kick-off"
    assert session["created_by"] == world.user_a.id
    assert session["engagement_id"] is None
    assert session["participants"] == []
    assert session["count"] == 0
    for reader in (world.user_a, world.msp_user, world.key_a):
        got = world.api(reader).get(f"/api/sessions/{session['id']}")
        assert got.status_code == 200
        assert got.json()["id"] == session["id"]
    listed = world.api(world.user_a).get("/api/sessions").json()["sessions"]
    assert session["id"] in [s["id"] for s in listed]


def test_a_session_can_belong_to_an_engagement(shared_world: World) -> None:
    world = shared_world
    engagement = new_engagement(world)
    session = new_session(world, world.msp_user, engagement_id=engagement["id"])
    assert session["tenant_id"] == world.tenant_a["id"]
    assert session["engagement_id"] == engagement["id"]
    listed = world.api(world.user_a).get(
        f"/api/sessions?engagement_id={engagement['id']}"
    )
    assert [s["id"] for s in listed.json()["sessions"]] == [session["id"]]
    mismatch = world.api(world.msp_user).post(
        "/api/sessions",
        json={
            "title": "x",
            "engagement_id": engagement["id"],
            "tenant_id": world.tenant_b["id"],
        },
    )
    assert mismatch.status_code == 400
    world.api(world.msp_user).post(f"/api/engagements/{engagement['id']}/archive")
    archived = world.api(world.msp_user).post(
        "/api/sessions", json={"title": "x", "engagement_id": engagement["id"]}
    )
    assert archived.status_code == 409
    assert archived.json()["error"]["code"] == "engagement_archived"


def test_an_msp_user_opens_sessions_in_its_client_tenants(
    shared_world: World,
) -> None:
    world = shared_world
    session = new_session(world, world.msp_user, tenant_id=world.tenant_b["id"])
    assert session["tenant_id"] == world.tenant_b["id"]
    own = new_session(world, world.msp_user)
    assert own["tenant_id"] == world.msp_tenant["id"]


def test_another_tenant_cannot_see_or_create_sessions_it_does_not_own(
    shared_world: World,
) -> None:
    world = shared_world
    session = new_session(world, world.user_a)
    engagement = new_engagement(world)
    for outsider in (world.user_b, world.key_b):
        api = world.api(outsider)
        assert api.get(f"/api/sessions/{session['id']}").status_code == 404
        listed = api.get("/api/sessions").json()["sessions"]
        assert session["id"] not in [s["id"] for s in listed]
        assert all(s["tenant_id"] == world.tenant_b["id"] for s in listed)
        in_a = api.post(
            "/api/sessions", json={"title": "x", "tenant_id": world.tenant_a["id"]}
        )
        assert in_a.status_code == 404
        via_engagement = api.post(
            "/api/sessions", json={"title": "x", "engagement_id": engagement["id"]}
        )
        assert via_engagement.status_code == 404
    publish = world.api(world.key_b).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": "x"},
            "target": {"session": session["id"]},
        },
    )
    assert publish.status_code == 404
    assert world.api().get(f"/api/sessions/{session['id']}").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": "x", "colour": "red"},
        {"title": "x", "tenant_id": "abc"},
    ],
)
def test_session_input_is_validated(
    shared_world: World, body: dict[str, object]
) -> None:
    response = shared_world.api(shared_world.user_a).post("/api/sessions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_unknown_session_is_404(shared_world: World) -> None:
    response = shared_world.api(shared_world.admin).get("/api/sessions/99999999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
