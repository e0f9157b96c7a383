"""REST auth: login, refresh, logout, me; one JSON error shape."""

from __future__ import annotations

import json

from tests.support.world import Api, World, login


def test_login_returns_tokens_and_user(world: World) -> None:
    body = login(world.url, world.user_a.email, world.user_a.password)
    assert set(body) == {"access_token", "refresh_token", "expires_in", "user"}
    assert body["user"]["tenant_id"] == world.tenant_a["id"]
    assert "password_hash" not in body["user"]
    assert body["expires_in"] > 0


def test_wrong_password_is_401_in_the_error_shape(world: World) -> None:
    response = Api(world.url).post(
        "/api/auth/login", json={"email": world.user_a.email, "password": "nope"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_login_validation_error_names_the_field(world: World) -> None:
    response = Api(world.url).post("/api/auth/login", json={"email": "x@y"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(d["field"] == "password" for d in error["details"])


def test_refresh_issues_a_working_access_token(world: World) -> None:
    response = Api(world.url, token=world.user_a.refresh_token).post(
        "/api/auth/refresh"
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = Api(world.url, token=token).get("/api/auth/me")
    assert me.json()["user"]["id"] == world.user_a.id


def test_access_token_cannot_refresh(world: World) -> None:
    response = Api(world.url, token=world.user_a.access_token).post("/api/auth/refresh")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_token_type"


def test_refresh_token_cannot_call_the_api(world: World) -> None:
    response = Api(world.url, token=world.user_a.refresh_token).get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "wrong_token_type"


def test_me_returns_user_and_tenant(world: World) -> None:
    body = world.api(world.user_a).get("/api/auth/me").json()
    assert body["user"]["email"] == world.user_a.email
    assert body["tenant"]["id"] == world.tenant_a["id"]


def test_logout_revokes_the_token_for_rest(world: World) -> None:
    member = world.add_user(world.tenant_b["id"])
    assert world.api(member).post("/api/auth/logout").status_code == 204
    response = world.api(member).get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"


def test_missing_and_garbage_tokens_have_codes(world: World) -> None:
    assert Api(world.url).get("/api/auth/me").json()["error"]["code"] == "missing_token"
    response = Api(world.url, token="garbage").get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_404_405_and_bad_json_use_the_error_shape(world: World) -> None:
    missing = Api(world.url).get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = Api(world.url).request("DELETE", "/api/auth/login")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    bad_json = Api(world.url).post(
        "/api/auth/login", data="{nope", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["code"] == "invalid_json"


def test_oversized_request_body_is_413(world: World) -> None:
    response = Api(world.url).post(
        "/api/auth/login",
        data=b'{"email": "' + b"x" * (5 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_server_errors_never_carry_a_traceback(world: World) -> None:
    # A polling POST to an engine.io session the client has just closed makes
    # python-engineio raise; the response must not show the traceback.
    opened = Api(world.url).get("/socket.io/?EIO=4&transport=polling")
    sid = json.loads(opened.text[1:])["sid"]
    path = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert Api(world.url).post(path, data="1").status_code == 200  # engine.io CLOSE
    response = Api(world.url).post(path, data="40")
    assert response.status_code >= 400
    assert "Traceback" not in response.text and 'File "' not in response.text


def test_logout_with_the_refresh_token_revokes_both(world: World) -> None:
    member = world.add_user(world.tenant_a["id"])
    response = world.api(member).post(
        "/api/auth/logout", json={"refresh_token": member.refresh_token}
    )
    assert response.status_code == 204
    refreshed = Api(world.url, token=member.refresh_token).post("/api/auth/refresh")
    assert refreshed.status_code == 401
    assert refreshed.json()["error"]["code"] == "token_revoked"


def test_logout_refuses_someone_elses_refresh_token(world: World) -> None:
    member = world.add_user(world.tenant_a["id"])
    response = world.api(member).post(
        "/api/auth/logout", json={"refresh_token": world.user_b.refresh_token}
    )
    assert response.status_code == 400
    # The caller's own access token is revoked regardless; the other is untouched.
    assert world.api(member).get("/api/auth/me").status_code == 401
    assert (
        Api(world.url, token=world.user_b.refresh_token)
        .post("/api/auth/refresh")
        .status_code
        == 200
    )
