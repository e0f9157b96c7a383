"""The connect path's caches in a cluster: every change is seen by every process.

Each process caches users, tenants and revoked tokens; these tests warm the cache
of the process that did NOT make the change, then check it sees the change on the
very next connect.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
import socketio

from tests.support.cluster_pair import Cluster, cluster, pair, sockets_on, wait_until
from tests.support.sockets import SocketRecorder, connect_refusal
from tests.support.world import Api, Member, login

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
__all__ = ["cluster", "pair", "sockets_on", "wait_until"]  # fixtures used by name


def test_logout_on_one_process_is_refused_at_the_next_connect_on_the_other(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    world = cluster.world
    member = world.add_user(world.tenant_a["id"])
    warm = sockets_on(cluster.two.url, member.access_token)  # token known on two
    warm.disconnect()
    response = Api(cluster.one.url, token=member.access_token).post("/api/auth/logout")
    assert response.status_code == 204
    for server in (cluster.two, cluster.one):
        error = connect_refusal(server.url, {"token": member.access_token})
        assert error["message"] == "token_revoked"
        me = Api(server.url, token=member.access_token).get("/api/auth/me")
        assert me.json()["error"]["code"] == "token_revoked"
    # Another token of the same user still works on both.
    fresh = login(cluster.one.url, member.email, member.password)["access_token"]
    for server in (cluster.one, cluster.two):
        sockets_on(server.url, fresh)


def test_new_client_tenant_is_visible_to_msp_staff_connecting_on_the_other_process(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    world = cluster.world
    msp = world.msp_user.access_token
    sockets_on(cluster.two.url, msp).disconnect()  # two caches the MSP's clients
    admin = Api(cluster.one.url, token=world.admin.access_token)
    created = admin.post(
        "/api/tenants",
        json={
            "name": f"late-{uuid.uuid4().hex[:8]}",
            "kind": "client",
            "parent_id": world.msp_tenant["id"],
        },
    )
    assert created.status_code == 201, created.text
    tenant_id = created.json()["id"]
    key = admin.post(f"/api/tenants/{tenant_id}/api-keys", json={"name": "t"})
    staff = sockets_on(cluster.two.url, msp)  # a new connection on two
    published = Api(cluster.one.url, api_key=key.json()["key"]).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"severity": "info", "title": "late", "message": "hello"},
            "target": {"tenant": tenant_id},
        },
    )
    assert published.status_code == 202, published.text
    event_id = published.json()["id"]
    staff.wait_for("alert", lambda e: e["id"] == event_id, timeout=5)
    # And the new tenant is in the MSP user's REST view on the other process too.
    tenants = Api(cluster.two.url, token=msp).get("/api/tenants").json()["tenants"]
    assert tenant_id in [t["id"] for t in tenants]


def test_per_user_cap_is_reached_across_both_processes(
    cluster: Cluster, sockets_on: Callable[[str, str], SocketRecorder]
) -> None:
    # MAX_CONNECTIONS_PER_USER=2 in the cluster env: one on each process fills it.
    member = cluster.world.add_user(cluster.world.tenant_b["id"])
    first = sockets_on(cluster.one.url, member.access_token)
    sockets_on(cluster.two.url, member.access_token)
    for server in (cluster.one, cluster.two):
        error = connect_refusal(server.url, {"token": member.access_token})
        assert error["message"] == "too_many_connections"
    first.disconnect()  # a slot freed on one process is usable from the other
    opened: list[SocketRecorder] = []
    try:
        assert wait_until(lambda: _connects(cluster.two.url, member, opened), 5)
        error = connect_refusal(cluster.one.url, {"token": member.access_token})
        assert error["message"] == "too_many_connections"
    finally:
        for recorder in opened:
            recorder.disconnect()


def _connects(url: str, member: Member, opened: list[SocketRecorder]) -> bool:
    recorder = SocketRecorder()
    opened.append(recorder)
    try:
        recorder.connect(url, member.access_token, ["/engagement"])
    except socketio.exceptions.ConnectionError:  # still full: not yet
        return False
    recorder.wait_for("welcome")
    return True


def test_a_burst_on_one_process_never_gets_past_the_cap(cluster: Cluster) -> None:
    member = cluster.world.add_user(cluster.world.tenant_b["id"])
    outcomes: list[bool] = []
    made: list[SocketRecorder] = []
    lock = threading.Lock()

    def attempt() -> None:
        recorder = SocketRecorder()
        with lock:
            made.append(recorder)
        try:
            recorder.connect(cluster.one.url, member.access_token, ["/engagement"])
            accepted = True
        except socketio.exceptions.ConnectionError:
            accepted = False
        with lock:
            outcomes.append(accepted)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == [False] * 6 + [True] * 2
    finally:
        for recorder in made:
            recorder.disconnect()
