"""REST /api/engagements: who may see and manage engagements, and their counters."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import requests

from tests.conftest import LiveServer, require_service
from tests.support.engagement import new_engagement
from tests.support.world import World, build_world


@pytest.fixture(scope="module")
def shared_world(server: LiveServer) -> World:
    """One tenant tree for the module: every test makes its own engagements."""
    return build_world(server.url, server.seed)


def test_msp_user_creates_an_engagement_its_client_can_read(
    shared_world: World,
) -> None:
    world = shared_world
    engagement = new_engagement(world, title="Quarterly review")
    assert engagement["msp_tenant_id"] == world.msp_tenant["id"]
    assert engagement["client_tenant_id"] == world.tenant_a["id"]
    assert engagement["status"] == "active"
    assert engagement["counters"] == {}
    path = f"/api/engagements/{engagement['id']}"
    for reader in (world.msp_user, world.user_a, world.admin, world.key_a):
        response = world.api(reader).get(path)
        assert response.status_code == 200, reader
        assert response.json()["title"] == "Quarterly review"
    listed = world.api(world.user_a).get("/api/engagements").json()["engagements"]
    assert engagement["id"] in [e["id"] for e in listed]
    assert all(e["client_tenant_id"] == world.tenant_a["id"] for e in listed)


def test_another_tenant_cannot_see_or_touch_an_engagement(shared_world: World) -> None:
    world = shared_world
    engagement = new_engagement(world)
    path = f"/api/engagements/{engagement['id']}"
    for outsider in (world.user_b, world.key_b):
        api = world.api(outsider)
        assert api.get(path).status_code == 404
        increment = api.post(path + "/interactions", json={"kind": "call"})
        assert increment.status_code == 404
        listed = api.get("/api/engagements").json()["engagements"]
        assert engagement["id"] not in [e["id"] for e in listed]
    assert (
        world.api(world.key_b).post(path + "/alerts", json={"title": "x"}).status_code
        == 404
    )
    body = world.api(world.user_b).get(path).json()
    assert body == {"error": {"code": "not_found", "message": "engagement not found"}}


def test_msp_cannot_reach_another_msps_client(shared_world: World) -> None:
    world = shared_world
    admin = world.api(world.admin)
    suffix = uuid.uuid4().hex[:8]
    other_msp = admin.post(
        "/api/tenants", json={"name": f"other-msp-{suffix}", "kind": "msp"}
    ).json()
    other_client = admin.post(
        "/api/tenants",
        json={
            "name": f"other-client-{suffix}",
            "kind": "client",
            "parent_id": other_msp["id"],
        },
    ).json()
    foreign = new_engagement(world, other_client["id"], who=world.admin)
    assert foreign["msp_tenant_id"] == other_msp["id"]
    api = world.api(world.msp_user)
    path = f"/api/engagements/{foreign['id']}"
    assert api.get(path).status_code == 404
    assert api.patch(path, json={"title": "mine"}).status_code == 404
    assert api.post(path + "/archive").status_code == 404
    assert api.post(path + "/interactions", json={"kind": "call"}).status_code == 404
    assert api.post(path + "/alerts", json={"title": "x"}).status_code == 404
    created = api.post(
        "/api/engagements", json={"client_tenant_id": other_client["id"], "title": "t"}
    )
    assert created.status_code == 404
    listed = api.get("/api/engagements").json()["engagements"]
    assert foreign["id"] not in [e["id"] for e in listed]


def test_client_users_and_client_keys_cannot_manage_engagements(
    shared_world: World,
) -> None:
    world = shared_world
    engagement = new_engagement(world)
    path = f"/api/engagements/{engagement['id']}"
    for client in (world.user_a, world.key_a):
        api = world.api(client)
        create = api.post(
            "/api/engagements",
            json={"client_tenant_id": world.tenant_a["id"], "title": "mine"},
        )
        assert create.status_code == 403
        assert create.json()["error"]["code"] == "forbidden"
        assert api.patch(path, json={"title": "mine"}).status_code == 403
        assert api.post(path + "/archive").status_code == 403
    assert world.api(world.msp_user).get(path).json()["title"] == "Onboarding"


def test_engagements_need_authentication(shared_world: World) -> None:
    anonymous = shared_world.api()
    assert anonymous.get("/api/engagements").status_code == 401
    assert (
        anonymous.post(
            "/api/engagements/1/interactions", json={"kind": "call"}
        ).status_code
        == 401
    )


def test_an_engagement_links_a_client_tenant(shared_world: World) -> None:
    api = shared_world.api(shared_world.msp_user)
    own = api.post(
        "/api/engagements",
        json={"client_tenant_id": shared_world.msp_tenant["id"], "title": "self"},
    )
    assert own.status_code == 400
    assert own.json()["error"]["details"] == [{"field": "client_tenant_id"}]
    unknown = api.post(
        "/api/engagements", json={"client_tenant_id": 999999, "title": "ghost"}
    )
    assert unknown.status_code == 404


def test_update_pause_and_archive(shared_world: World) -> None:
    world = shared_world
    api = world.api(world.msp_user)
    engagement = new_engagement(world)
    path = f"/api/engagements/{engagement['id']}"
    renamed = api.patch(path, json={"title": "Renamed", "status": "paused"})
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "Renamed"
    assert renamed.json()["status"] == "paused"
    paused = world.api(world.user_a).post(path + "/interactions", json={"kind": "call"})
    assert paused.status_code == 409
    assert paused.json()["error"]["code"] == "engagement_not_active"
    assert api.patch(path, json={"status": "active"}).json()["status"] == "active"
    archived = api.post(path + "/archive")
    assert archived.status_code == 200
    assert archived.json()["status"] == "archived"
    assert api.post(path + "/archive").json()["status"] == "archived"
    again = api.patch(path, json={"status": "active"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "engagement_archived"
    assert api.post(path + "/interactions", json={"kind": "call"}).status_code == 409
    listed = api.get("/api/engagements?status=archived").json()["engagements"]
    assert engagement["id"] in [e["id"] for e in listed]
    active = api.get("/api/engagements?status=active").json()["engagements"]
    assert engagement["id"] not in [e["id"] for e in active]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("post", "", {"client_tenant_id": 1}),
        ("post", "", {"client_tenant_id": 1, "title": ""}),
        ("post", "", {"client_tenant_id": 1, "title": "t", "status": "archived"}),
        ("post", "", {"client_tenant_id": 1, "title": "t", "tenant_id": 2}),
        ("patch", "/{id}", {}),
        ("patch", "/{id}", {"status": "done"}),
        ("post", "/{id}/interactions", {}),
        ("post", "/{id}/interactions", {"kind": "Not A Kind!"}),
        ("post", "/{id}/interactions", {"kind": "x" * 65}),
        ("post", "/{id}/alerts", {"title": "t", "severity": "apocalyptic"}),
        ("post", "/{id}/alerts", {"message": "no title"}),
    ],
)
def test_engagement_input_is_validated(
    shared_world: World, method: str, suffix: str, body: dict[str, object]
) -> None:
    engagement_id = new_engagement(shared_world)["id"]
    api = shared_world.api(shared_world.msp_user)
    path = "/api/engagements" + suffix.format(id=engagement_id)
    response = api.request(method.upper(), path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"


def test_list_rejects_an_unknown_status(shared_world: World) -> None:
    response = shared_world.api(shared_world.msp_user).get(
        "/api/engagements?status=bogus"
    )
    assert response.status_code == 400


def test_interactions_are_counted_by_kind(shared_world: World) -> None:
    world = shared_world
    engagement = new_engagement(world)
    path = f"/api/engagements/{engagement['id']}"
    results = [
        world.api(who).post(path + "/interactions", json={"kind": kind}).json()
        for who, kind in (
            (world.user_a, "call"),
            (world.msp_user, "call"),
            (world.key_a, "email"),
        )
    ]
    assert [r["count"] for r in results] == [1, 2, 1]
    assert results[-1] == {
        "engagement_id": engagement["id"],
        "kind": "email",
        "count": 1,
        "counters": {"call": 2, "email": 1},
    }
    assert world.api(world.user_a).get(path).json()["counters"] == {
        "call": 2,
        "email": 1,
    }


def _increment_concurrently(world: World, engagement_id: int, total: int) -> list[int]:
    """``total`` simultaneous increments from client and MSP users; their counts."""
    url = f"{world.url}/api/engagements/{engagement_id}/interactions"
    tokens = [world.user_a.access_token, world.msp_user.access_token]

    def increment(index: int) -> int:
        response = requests.post(
            url,
            json={"kind": "call"},
            timeout=60,
            headers={"Authorization": f"Bearer {tokens[index % 2]}"},
        )
        assert response.status_code == 200, response.text
        return int(response.json()["count"])

    with ThreadPoolExecutor(max_workers=total) as pool:
        return list(pool.map(increment, range(total)))


def test_fifty_concurrent_increments_are_all_counted(shared_world: World) -> None:
    engagement = new_engagement(shared_world)
    counts = _increment_concurrently(shared_world, engagement["id"], 50)
    # Each increment saw its own value: none was lost or double counted.
    assert sorted(counts) == list(range(1, 51))
    final = shared_world.api(shared_world.user_a).get(
        f"/api/engagements/{engagement['id']}"
    )
    assert final.json()["counters"] == {"call": 50}


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    """A throw-away PostgreSQL database (created and dropped around the test)."""
    base = require_service("PostgreSQL", os.environ.get("TEST_POSTGRES_URL"))
    name = f"switchboard_eng_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(base)._replace(path="/" + name))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
def test_fifty_concurrent_increments_are_all_counted_on_postgresql(
    scratch_postgres: str, server_factory: Callable[..., LiveServer]
) -> None:
    server = server_factory(database_url=scratch_postgres)
    world = build_world(server.url, server.seed)
    engagement = new_engagement(world)
    counts = _increment_concurrently(world, engagement["id"], 50)
    assert sorted(counts) == list(range(1, 51))
    final = world.api(world.user_a).get(f"/api/engagements/{engagement['id']}")
    assert final.json()["counters"] == {"call": 50}
