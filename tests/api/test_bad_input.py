"""Bad input is a 4xx with the JSON error shape, never a 5xx or a traceback.

One table of probes (too-deep JSON, ids beyond 64 bits, NUL characters, a socket
event with an out-of-range id) runs against a real server on SQLite and on
PostgreSQL: the two must answer alike. Every JSON endpoint is read from the app's
URL map, so a new one is probed without editing this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import require_service
from tests.support.server import (
    LiveServer,
    ServerProcess,
    base_env,
    create_database,
    drop_database,
    prepare_database,
)
from tests.support.sockets import SocketRecorder
from tests.support.world import World, build_world

TOO_BIG = 2**64  # beyond every id column (signed 64-bit)
JUST_TOO_BIG = 2**63  # the first integer a BIGINT cannot hold
LARGEST = 2**63 - 1  # a legal id that no row has
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def nested_objects(depth: int) -> str:
    """``{"a": {"a": … 1 …}}`` as text (json.dumps would recurse itself)."""
    return '{"a":' * depth + "1" + "}" * depth


def nested_lists(depth: int) -> str:
    """``[[[…]]]`` as text."""
    return "[" * depth + "]" * depth


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, World]]:
    """One server per database for the whole table, with a fresh world."""
    directory: Path = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    database_url = None
    if request.param == "postgresql":
        import os

        server_url = require_service("PostgreSQL", os.environ.get("TEST_POSTGRES_URL"))
        database_url = create_database(server_url)
    url = database_url or f"sqlite:///{directory / 'switchboard.db'}"
    env = base_env(url, {"TEST_LOG_DIR": str(directory)})
    seed = prepare_database(env)
    process = ServerProcess(env).start()
    srv = LiveServer(process, seed, env)
    try:
        yield srv, build_world(srv.url, seed)
    finally:
        process.stop()
        if database_url:
            drop_database(database_url)


def json_routes() -> list[tuple[str, str]]:
    """(method, concrete path) for every /api route that may take a JSON body."""
    from webapp import create_app

    routes = []
    for rule in create_app("testing").url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<int:[^>]+>", "1", rule.rule)
        path = re.sub(r"<[^>]+>", "cam-1", path)
        for method in sorted((rule.methods or set()) & set(BODY_METHODS)):
            routes.append((method, path))
    return routes


def assert_error(response: requests.Response, status: int, code: str) -> None:
    """The JSON error shape with this status and code."""
    assert response.status_code == status, (response.request.url, response.text)
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body


def assert_no_traceback(srv: LiveServer) -> None:
    log = srv.process.log()
    assert "Traceback" not in log, log[-4000:]
    assert "unhandled error" not in log, log[-4000:]


def test_every_json_endpoint_refuses_deep_nesting_even_unauthenticated(
    live: tuple[LiveServer, World],
) -> None:
    srv, _world = live
    routes = json_routes()
    assert ("POST", "/api/auth/login") in routes and len(routes) > 20
    headers = {"Content-Type": "application/json"}
    for method, path in routes:
        for body in (nested_lists(10_000), nested_objects(10_000), nested_lists(33)):
            response = requests.request(
                method, srv.url + path, data=body, headers=headers, timeout=10
            )
            assert_error(response, 400, "too_deep")
    # The limit itself (MAX_JSON_DEPTH, 32) is still accepted as JSON.
    login = requests.post(srv.url + "/api/auth/login", json=[[[]]], timeout=10)
    assert_error(login, 400, "validation_error")
    assert_no_traceback(srv)


def test_each_refusal_writes_one_log_line(live: tuple[LiveServer, World]) -> None:
    srv, _world = live

    def refusals() -> int:
        return srv.process.log().count("refused POST '/api/auth/login'")

    before = refusals()
    response = requests.post(
        srv.url + "/api/auth/login",
        data=nested_objects(10_000),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert_error(response, 400, "too_deep")
    assert refusals() == before + 1
    assert_no_traceback(srv)


def test_publish_data_nested_900_deep_is_refused(
    live: tuple[LiveServer, World],
) -> None:
    srv, world = live
    body = (
        '{"namespace": "/engagement", "event": "alert", "target": {"tenant": '
        f'{world.tenant_a["id"]}}}, "data": {{"title": "deep", '
        f'"extra": {nested_objects(900)}}}}}'
    )
    for path in ("/api/publish", "/api/publish/batch"):
        payload = body if path == "/api/publish" else f"[{body}]"
        response = requests.post(
            srv.url + path,
            data=payload,
            headers={"Content-Type": "application/json", "X-API-Key": world.key_a},
            timeout=10,
        )
        assert_error(response, 400, "too_deep")
    assert_no_traceback(srv)


def id_probes(world: World) -> list[tuple[str, str, dict[str, Any], int, str]]:
    """(method, path, request kwargs, status, code) for ids out of range."""
    tenant = world.tenant_a["id"]
    probes: list[tuple[str, str, dict[str, Any], int, str]] = []
    for bad in (TOO_BIG, JUST_TOO_BIG, 0):
        probes += [
            ("GET", f"/api/sessions/{bad}", {}, 404, "not_found"),
            ("GET", f"/api/engagements/{bad}", {}, 404, "not_found"),
            ("PATCH", f"/api/engagements/{bad}", {"json": {"title": "x"}}, 404, ""),
            ("GET", f"/api/agent-runs/{bad}", {}, 404, "not_found"),
            ("GET", f"/api/dashboard/alerts/{bad}", {}, 404, "not_found"),
            ("POST", f"/api/dashboard/alerts/{bad}/resolve", {}, 404, ""),
            ("GET", f"/api/dashboard/interventions/{bad}", {}, 404, "not_found"),
            ("GET", f"/api/tenants/{bad}/api-keys", {}, 404, "not_found"),
            ("DELETE", f"/api/tenants/{tenant}/api-keys/{bad}", {}, 404, ""),
        ]
    for bad in (TOO_BIG, JUST_TOO_BIG):
        probes += [
            ("GET", f"/api/events?since_id={bad}", {}, 400, "validation_error"),
            ("GET", f"/api/events?tenant_id={bad}", {}, 400, "validation_error"),
            ("GET", f"/api/sessions?tenant_id={bad}", {}, 400, "validation_error"),
            ("GET", f"/api/system/status?tenant_id={bad}", {}, 400, "validation_error"),
            ("GET", f"/api/dashboard/alerts?tenant_id={bad}", {}, 400, ""),
            (
                "POST",
                "/api/sessions",
                {"json": {"title": "x", "tenant_id": bad}},
                400,
                "",
            ),
            ("POST", "/api/agent-runs", {"json": {"user_id": bad}}, 400, ""),
            ("POST", "/api/detections", {"json": _detection(bad)}, 400, ""),
            ("POST", "/api/engagements", {"json": _engagement(bad)}, 400, ""),
            ("POST", "/api/tenants", {"json": _client_tenant(bad)}, 400, ""),
            ("POST", "/api/dashboard/alerts", {"json": _alert(bad)}, 400, ""),
        ]
    # The largest legal id is looked up like any other: not found, no overflow.
    probes += [
        ("GET", f"/api/sessions/{LARGEST}", {}, 404, "not_found"),
        ("GET", f"/api/events?since_id={LARGEST}", {}, 200, ""),
        (
            "POST",
            "/api/sessions",
            {"json": {"title": "x", "tenant_id": LARGEST}},
            404,
            "",
        ),
        ("POST", "/api/agent-runs", {"json": {"user_id": LARGEST}}, 404, ""),
    ]
    return probes


def _detection(event_id: int) -> dict[str, Any]:
    return {"event_id": event_id, "label": "person", "confidence": 0.5}


def _engagement(client_tenant_id: int) -> dict[str, Any]:
    return {"title": "x", "client_tenant_id": client_tenant_id}


def _client_tenant(parent_id: int) -> dict[str, Any]:
    return {"name": f"t-{parent_id}", "kind": "client", "parent_id": parent_id}


def _alert(tenant_id: int) -> dict[str, Any]:
    return {"title": "x", "severity": "high", "tenant_id": tenant_id}


def test_ids_beyond_64_bits_are_404_in_paths_and_400_in_queries_and_bodies(
    live: tuple[LiveServer, World],
) -> None:
    srv, world = live
    api = world.api(world.admin)
    for method, path, kwargs, status, code in id_probes(world):
        response = api.request(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        if status >= 400:
            assert_error(response, status, code or response.json()["error"]["code"])
        if status == 400:
            assert response.json()["error"]["code"] == "validation_error"
    assert_no_traceback(srv)


def test_a_nul_character_is_refused_everywhere(
    live: tuple[LiveServer, World],
) -> None:
    srv, world = live
    admin = world.api(world.admin)
    key = world.api(world.key_a)
    nul = "bad\x00text"
    probes = [
        (
            world.api(),
            "POST",
            "/api/auth/login",
            {"json": {"email": nul, "password": "x"}},
        ),
        (
            world.api(),
            "POST",
            "/api/auth/login",
            {"json": {"email": "a@b.c", "password": nul}},
        ),
        (admin, "POST", "/api/tenants", {"json": {"name": nul, "kind": "msp"}}),
        (
            admin,
            "POST",
            f"/api/tenants/{world.tenant_a['id']}/users",
            {
                "json": {
                    "email": "n@x.y",
                    "password": nul,
                    "name": "n",
                    "role": "client",
                }
            },
        ),
        (
            admin,
            "POST",
            "/api/sessions",
            {"json": {"title": nul, "tenant_id": world.tenant_a["id"]}},
        ),
        (
            key,
            "POST",
            "/api/dashboard/alerts",
            {"json": {"title": "x", "severity": "high", "message": nul}},
        ),
        (
            key,
            "POST",
            "/api/publish",
            {
                "json": {
                    "namespace": "/engagement",
                    "event": "alert",
                    "target": {"tenant": world.tenant_a["id"]},
                    "data": {"title": nul, nul: 1},
                }
            },
        ),
        (
            key,
            "PUT",
            "/api/system/cameras/cam-1/status",
            {"json": {"status": "online", "detail": nul}},
        ),
        (admin, "GET", "/api/events?namespace=%00", {}),
        (admin, "GET", "/api/events?room=tenant%3A1%00", {}),
        (
            key,
            "PUT",
            "/api/system/cameras/cam%001/status",
            {"json": {"status": "online"}},
        ),
    ]
    for api, method, path, kwargs in probes:
        response = api.request(method, path, **kwargs)
        assert_error(response, 400, "validation_error")
        assert "NUL" in response.json()["error"]["message"], response.text
    # JSON may come as UTF-16 too: the NUL is refused however it is encoded.
    utf16 = json.dumps({"email": nul, "password": "x"}).encode("utf-16")
    response = requests.post(
        srv.url + "/api/auth/login",
        data=utf16,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert_error(response, 400, "validation_error")
    assert_no_traceback(srv)


def test_socket_event_ids_beyond_64_bits_get_an_error_ack_naming_the_field(
    live: tuple[LiveServer, World],
) -> None:
    srv, world = live
    client = SocketRecorder()
    try:
        client.connect(world.url, world.user_a.access_token, ["/engagement"])
        client.wait_for("welcome", namespace="/engagement")
        for payload in (
            {"session_id": TOO_BIG},
            {"session_id": JUST_TOO_BIG},
            {"session_id": 1, "last_event_id": TOO_BIG},
        ):
            ack = client.call("join_session", payload)
            assert ack["ok"] is False, ack
            field = "last_event_id" if "last_event_id" in payload else "session_id"
            assert ack["error"]["message"].startswith(f"{field}: "), ack
            assert [d["field"] for d in ack["error"]["details"]] == [field], ack
        for event in ("leave_session", "send_message"):
            ack = client.call(event, {"session_id": TOO_BIG, "text": "hi"})
            assert ack["ok"] is False and "session_id" in ack["error"]["message"]
        missing = client.call("join_session", {"session_id": LARGEST})
        assert missing["error"]["code"] == "not_found", missing
        assert client.client.connected
    finally:
        client.disconnect()
    assert_no_traceback(srv)


def test_nan_and_infinity_are_refused_as_not_json(
    live: tuple[LiveServer, World],
) -> None:
    srv, world = live
    headers = {"Content-Type": "application/json", "X-API-Key": world.key_a}
    target = f'"target": {{"tenant": {world.tenant_a["id"]}}}'
    for number in ("NaN", "Infinity", "-Infinity", "1e999"):
        body = (
            '{"namespace": "/engagement", "event": "alert", '
            f'{target}, "data": {{"title": "x", "value": {number}}}}}'
        )
        response = requests.post(
            srv.url + "/api/publish", data=body, headers=headers, timeout=10
        )
        assert_error(response, 400, "invalid_json")
    assert_no_traceback(srv)
