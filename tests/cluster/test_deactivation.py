"""Deactivation in a cluster: sockets close on every process, reconnects refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.cluster_pair import Cluster, cluster, pair, sockets_on, wait_until
from tests.support.sockets import SocketRecorder, connect_refusal
from tests.support.world import Api

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
__all__ = ["cluster", "pair", "sockets_on"]  # fixtures used by name


def test_deactivation_closes_sockets_and_refuses_reconnects_on_both_processes(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    world = cluster.world
    member = world.add_user(world.tenant_a["id"])
    on_one = sockets_on(cluster.one.url, member.access_token)
    on_two = sockets_on(cluster.two.url, member.access_token)
    bystander = sockets_on(cluster.two.url, world.user_a.access_token)
    # Both processes have now seen the member as active (their caches are warm).
    response = Api(cluster.one.url, token=world.admin.access_token).delete(
        f"/api/tenants/{world.tenant_a['id']}/users/{member.id}"
    )
    assert response.status_code == 204, response.text
    assert wait_until(lambda: not on_one.client.connected, timeout=5)
    assert wait_until(lambda: not on_two.client.connected, timeout=5)
    assert bystander.client.connected
    for server in (cluster.one, cluster.two):
        error = connect_refusal(server.url, {"token": member.access_token})
        assert error["message"] == "user_deactivated"
        me = Api(server.url, token=member.access_token).get("/api/auth/me")
        assert me.status_code == 401
        assert me.json()["error"]["code"] == "user_deactivated"
