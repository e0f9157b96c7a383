"""Deactivating a user: tokens and login refused, sockets closed."""

from __future__ import annotations

import time

from tests.conftest import LiveServer
from tests.support.sockets import SocketFactory, SocketRecorder, connect_refusal
from tests.support.world import Api, World, build_world, login


def _deactivate(by: Api, tenant_id: int, user_id: int) -> int:
    return by.delete(f"/api/tenants/{tenant_id}/users/{user_id}").status_code


def _wait_closed(recorder: SocketRecorder, timeout: float = 5.0) -> bool:
    client = recorder.client
    deadline = time.monotonic() + timeout
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    return not client.connected


def test_deactivated_user_is_refused_everywhere_and_disconnected(
    world: World, sockets: SocketFactory
) -> None:
    member = world.add_user(world.tenant_a["id"])
    colleague = world.add_user(world.tenant_a["id"])
    live = sockets().connect(world.url, member.access_token, ["/engagement", "/events"])
    live.wait_for("welcome", namespace="/events")
    bystander = sockets().connect(world.url, colleague.access_token, ["/engagement"])
    assert Api(world.url, token=member.access_token).get("/api/auth/me").ok

    status = _deactivate(world.api(world.admin), world.tenant_a["id"], member.id)
    assert status == 204
    assert _wait_closed(live)
    assert bystander.client.connected  # another user of the tenant is untouched

    me = Api(world.url, token=member.access_token).get("/api/auth/me")
    assert me.status_code == 401
    assert me.json()["error"]["code"] == "user_deactivated"
    refreshed = Api(world.url, token=member.refresh_token).post("/api/auth/refresh")
    assert refreshed.status_code == 401
    assert refreshed.json()["error"]["code"] == "user_deactivated"
    for namespace in ("/engagement", "/events", "/system", "/dashboard"):
        error = connect_refusal(world.url, {"token": member.access_token}, namespace)
        assert error["message"] == "user_deactivated"
    response = Api(world.url).post(
        "/api/auth/login", json={"email": member.email, "password": member.password}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_deactivated"
    wrong = Api(world.url).post(
        "/api/auth/login", json={"email": member.email, "password": "not-the-password"}
    )
    assert wrong.json()["error"]["code"] == "invalid_credentials"  # reveals nothing
    # Deactivating again is harmless.
    assert _deactivate(world.api(world.admin), world.tenant_a["id"], member.id) == 204
    assert Api(world.url, token=colleague.access_token).get("/api/auth/me").ok


def test_msp_deactivates_a_user_of_its_client_tenant(world: World) -> None:
    member = world.add_user(world.tenant_b["id"])
    status = _deactivate(world.api(world.msp_user), world.tenant_b["id"], member.id)
    assert status == 204
    error = connect_refusal(world.url, {"token": member.access_token})
    assert error["message"] == "user_deactivated"


def test_other_tenants_cannot_deactivate(world: World, server: LiveServer) -> None:
    member = world.add_user(world.tenant_a["id"])
    other = build_world(server.url, server.seed)  # another MSP and its clients
    for outsider in (other.msp_user, other.user_a):
        response = other.api(outsider).delete(
            f"/api/tenants/{world.tenant_a['id']}/users/{member.id}"
        )
        assert response.status_code in (403, 404), response.text
        if outsider.role == "msp":
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        # Their own tenant in the path, our user's id: still not found.
        own = outsider.tenant_id
        response = other.api(outsider).delete(f"/api/tenants/{own}/users/{member.id}")
        assert response.status_code in (403, 404)
    # A client user may not deactivate a colleague.
    colleague = world.add_user(world.tenant_a["id"])
    response = world.api(colleague).delete(
        f"/api/tenants/{world.tenant_a['id']}/users/{member.id}"
    )
    assert response.status_code == 403
    # The wrong tenant in the path, ids out of range: 404, never a 5xx.
    admin = world.api(world.admin)
    for path in (
        f"/api/tenants/{world.tenant_b['id']}/users/{member.id}",
        f"/api/tenants/{world.tenant_a['id']}/users/{2**64}",
        f"/api/tenants/{2**64}/users/{member.id}",
        f"/api/tenants/{world.tenant_a['id']}/users/999999999",
    ):
        response = admin.delete(path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    # The member was never deactivated by any of these.
    assert Api(world.url, token=member.access_token).get("/api/auth/me").ok
    assert login(world.url, member.email, member.password)["access_token"]


def test_nobody_deactivates_themselves(world: World) -> None:
    response = world.api(world.msp_user).delete(
        f"/api/tenants/{world.msp_tenant['id']}/users/{world.msp_user.id}"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cannot_deactivate_self"
