"""Cached API keys in a cluster: a revocation on one process reaches the other.

The key is warmed on the process that does NOT revoke it, so only the cluster-wide
invalidation (the auth cache's version counter in Redis) can refuse it there.
"""

from __future__ import annotations

import pytest

from tests.support.cluster_pair import Cluster, cluster, pair
from tests.support.world import Api

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
__all__ = ["cluster", "pair"]  # fixtures used by name

ALERT = {
    "namespace": "/engagement",
    "event": "alert",
    "data": {"severity": "info", "title": "t", "message": "m"},
}


def test_a_key_revoked_on_one_process_is_refused_on_the_other_at_once(
    cluster: Cluster,
) -> None:
    world = cluster.world
    tenant_id = world.tenant_a["id"]
    admin = Api(cluster.one.url, token=world.admin.access_token)
    created = admin.post(f"/api/tenants/{tenant_id}/api-keys", json={"name": "c"})
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    body = {**ALERT, "target": {"tenant": tenant_id}}
    for server in (cluster.two, cluster.one):  # cached on both
        for _ in range(2):
            published = Api(server.url, api_key=key).post("/api/publish", json=body)
            assert published.status_code == 202, published.text
    revoked = admin.delete(f"/api/tenants/{tenant_id}/api-keys/{key_id}")
    assert revoked.status_code == 204
    for server in (cluster.two, cluster.one):
        refused = Api(server.url, api_key=key).post("/api/publish", json=body)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "invalid_api_key"
        listed = Api(server.url, api_key=key).get("/api/events")
        assert listed.status_code == 401
    # Other keys, on both processes, still publish.
    for server in (cluster.one, cluster.two):
        other = Api(server.url, api_key=world.key_a).post("/api/publish", json=body)
        assert other.status_code == 202, other.text


def test_cached_keys_stay_in_their_tenant_on_both_processes(cluster: Cluster) -> None:
    world = cluster.world
    theirs = {**ALERT, "target": {"tenant": world.tenant_b["id"]}}
    for server in (cluster.one, cluster.two, cluster.one):
        api = Api(server.url, api_key=world.key_a)
        assert api.post("/api/publish", json=theirs).status_code == 404
        events = api.get("/api/events").json()["events"]
        assert {e["tenant_id"] for e in events} <= {world.tenant_a["id"]}
