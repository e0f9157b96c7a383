"""API keys are verified once per process, then served from the auth cache.

Unit tests on an in-process app (what is queried), live tests on a real server
(a revoked key is refused on the very next request; keys never cross tenants).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from tests.support.sql import recorded_statements
from tests.support.world import Api, World
from webapp.auth.api_keys import generate_api_key
from webapp.auth.guards import identity_from_api_key
from webapp.errors import Unauthorized
from webapp.extensions import db
from webapp.models import ApiKey, Tenant
from webapp.models.time import utcnow
from webapp.services.tenancy.auth_cache import auth_cache

ALERT = {
    "namespace": "/engagement",
    "event": "alert",
    "data": {"severity": "info", "title": "t", "message": "m"},
}


def _tenant(kind: str = "client", parent_id: int | None = None) -> Tenant:
    tenant = Tenant(name=f"t-{time.monotonic_ns()}", kind=kind, parent_id=parent_id)
    db.session.add(tenant)
    db.session.commit()
    return tenant


def _key(tenant: Tenant, name: str = "k") -> tuple[str, ApiKey]:
    key, prefix, digest = generate_api_key()
    record = ApiKey(tenant_id=tenant.id, name=name, prefix=prefix, hash=digest)
    db.session.add(record)
    db.session.commit()
    return key, record


def _refused(key: str) -> bool:
    try:
        identity_from_api_key(key)
    except Unauthorized as exc:
        assert exc.code == "invalid_api_key"
        return True
    return False


def test_a_verified_key_is_served_without_a_query(app: Flask) -> None:
    tenant = _tenant()
    key, record = _key(tenant, "ingest")
    first = identity_from_api_key(key)
    with recorded_statements() as seen:
        for _ in range(3):
            again = identity_from_api_key(key)
    assert seen == []
    assert again == first
    assert (again.tenant_id, again.api_key_id, again.name) == (
        tenant.id,
        record.id,
        "ingest",
    )


def test_revoking_a_cached_key_refuses_it_at_once(app: Flask) -> None:
    tenant = _tenant()
    key, record = _key(tenant)
    other_key, _ = _key(tenant)
    identity_from_api_key(key)
    identity_from_api_key(other_key)
    record.revoked_at = utcnow()
    db.session.commit()  # the commit alone invalidates the cache
    assert _refused(key)
    assert identity_from_api_key(other_key).tenant_id == tenant.id


def test_a_new_client_tenant_reaches_a_cached_msp_key(app: Flask) -> None:
    msp = _tenant("msp")
    key, _ = _key(msp)
    assert identity_from_api_key(key).visible_tenant_ids == (msp.id,)
    client = _tenant("client", parent_id=msp.id)
    assert identity_from_api_key(key).visible_tenant_ids == (msp.id, client.id)


def test_a_forged_secret_on_a_cached_prefix_is_refused(app: Flask) -> None:
    tenant = _tenant()
    key, record = _key(tenant)
    identity_from_api_key(key)  # cached
    forged = f"sb_{record.prefix}_{'A' * 43}"
    assert _refused(forged)
    assert _refused(key + "x")
    assert _refused(f"sb_{record.prefix}_")
    assert identity_from_api_key(key).tenant_id == tenant.id


def test_cached_keys_of_two_tenants_keep_their_own_identities(app: Flask) -> None:
    one, two = _tenant(), _tenant()
    key_one, record_one = _key(one)
    key_two, record_two = _key(two)
    for _ in range(2):  # cold, then cached
        first, second = identity_from_api_key(key_one), identity_from_api_key(key_two)
        assert (first.tenant_id, first.api_key_id) == (one.id, record_one.id)
        assert (second.tenant_id, second.api_key_id) == (two.id, record_two.id)
        assert first.visible_tenant_ids == (one.id,)
        assert second.visible_tenant_ids == (two.id,)


def test_a_key_read_before_an_invalidation_is_not_cached_after_it(
    app: Flask,
) -> None:
    # A revocation committed (here or on another process) while a request is
    # reading the key's row must not leave that row cached for AUTH_CACHE_TTL.
    tenant = _tenant()
    key, _ = _key(tenant)
    fired: list[bool] = []

    def invalidate_meanwhile(*args: Any) -> None:
        if "FROM api_keys" in str(args[2]) and not fired:
            fired.append(True)
            auth_cache().invalidate()  # what the commit hook does on a revocation

    event.listen(db.engine, "after_cursor_execute", invalidate_meanwhile)
    try:
        identity_from_api_key(key)
    finally:
        event.remove(db.engine, "after_cursor_execute", invalidate_meanwhile)
    assert fired
    with recorded_statements() as seen:
        identity_from_api_key(key)
    assert any("FROM api_keys" in statement for statement in seen)
    with recorded_statements() as seen:
        identity_from_api_key(key)  # read after the invalidation: cached now
    assert seen == []


# ------------------------------------------------------------------ live server
def test_a_revoked_key_is_refused_on_the_next_publish(world: World) -> None:
    admin = world.api(world.admin)
    tenant_id = world.tenant_a["id"]
    created = admin.post(f"/api/tenants/{tenant_id}/api-keys", json={"name": "r"})
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    publisher = world.api(key)
    body = {**ALERT, "target": {"tenant": tenant_id}}
    for _ in range(3):  # verified once, then cached
        assert publisher.post("/api/publish", json=body).status_code == 202
    revoked = admin.delete(f"/api/tenants/{tenant_id}/api-keys/{key_id}")
    assert revoked.status_code == 204
    refused = publisher.post("/api/publish", json=body)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    # The tenant's other key is untouched.
    assert world.api(world.key_a).post("/api/publish", json=body).status_code == 202


def test_another_tenants_cached_key_never_reaches_this_tenant(world: World) -> None:
    mine = {**ALERT, "target": {"tenant": world.tenant_a["id"]}}
    theirs = {**ALERT, "target": {"tenant": world.tenant_b["id"]}}
    a, b = world.api(world.key_a), world.api(world.key_b)
    for _ in range(2):  # cold, then cached
        assert a.post("/api/publish", json=mine).status_code == 202
        assert b.post("/api/publish", json=theirs).status_code == 202
        crossed = b.post("/api/publish", json=mine)
        assert crossed.status_code == 404, crossed.text
        assert a.post("/api/publish", json=theirs).status_code == 404
    seen = b.get("/api/events", params={"namespace": "/engagement"}).json()
    assert seen["events"]
    assert {e["tenant_id"] for e in seen["events"]} == {world.tenant_b["id"]}


@pytest.mark.parametrize(
    "header", ["sb_x", "sb_nope_nope", "nonsense", "sb__abc", "sb_abc_", "sb_a_b_c"]
)
def test_malformed_keys_are_refused_cleanly(world: World, header: str) -> None:
    body = {**ALERT, "target": {"tenant": world.tenant_a["id"]}}
    response = Api(world.url, api_key=header).post("/api/publish", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
