"""/metrics on a live server: the families an operator alerts on (docs/operations.md).

Each test reads /metrics over HTTP, as ``curl`` or Prometheus would, and parses it
with prometheus_client's own parser.
"""

from __future__ import annotations

import uuid

import requests

from tests.support.ops import scrape, scrape_text, value, wait_for_value
from tests.support.server import ServerFactory
from tests.support.sockets import SocketFactory, connect_refusal, resume
from tests.support.world import Api, World, build_world, publish_alerts

# Every family docs/operations.md lists, by the name the parser reports.
FAMILIES = {
    "switchboard_http_requests": "counter",
    "switchboard_http_request_duration_seconds": "histogram",
    "switchboard_publish_latency_seconds": "histogram",
    "switchboard_replay_duration_seconds": "histogram",
    "switchboard_events_published": "counter",
    "switchboard_events_replayed": "counter",
    "switchboard_events_dropped": "counter",
    "switchboard_connections": "gauge",
    "switchboard_connects_refused": "counter",
    "switchboard_client_events": "counter",
    "switchboard_dependency_up": "gauge",
    "switchboard_dependency_latency_seconds": "gauge",
    "switchboard_dependency_last_probe_timestamp_seconds": "gauge",
    "switchboard_login_failures": "counter",
    "switchboard_slow_consumers_closed": "counter",
    "switchboard_malformed_packets": "counter",
    "switchboard_oversize_messages": "counter",
    "switchboard_publish_group_events": "histogram",
    "switchboard_process_info": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_cpu_seconds": "counter",
}
ALERT = {"severity": "high", "title": "metrics", "message": "counted"}


def test_metrics_show_every_family_after_a_publish_and_a_replay(
    world: World, sockets: SocketFactory
) -> None:
    tenant = world.tenant_a["id"]
    token = world.user_a.access_token
    first, *missed = publish_alerts(world.url, world.key_a, tenant, 3, "ops")
    response = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": ALERT,
            "target": {"tenant": tenant},
        },
    )
    assert response.status_code == 202, response.text
    before = scrape(world.url)
    _client, complete = resume(sockets, world.url, token, first)
    assert complete["count"] == len(missed) + 1

    families = scrape(world.url)
    for name, kind in FAMILIES.items():
        assert name in families, f"{name} is missing from /metrics"
        assert families[name].type == kind, name
    engagement = {"namespace": "/engagement"}
    # The publish: counted by route and status, timed, its latency observed.
    route = {"method": "POST", "route": "/api/publish", "status": "202"}
    assert value(families, "switchboard_http_requests_total", **route) >= 1
    timed = {"method": "POST", "route": "/api/publish"}
    assert value(families, "switchboard_http_request_duration_seconds_count", **timed)
    assert value(families, "switchboard_publish_latency_seconds_count", **engagement)
    # The replay: its events counted and its duration observed, once more than
    # before the client resumed.
    replays = "switchboard_replay_duration_seconds_count"
    assert (
        value(families, replays, **engagement)
        == (value(before, replays, **engagement) or 0) + 1
    )
    replayed = "switchboard_events_replayed_total"
    assert (
        value(families, replayed, **engagement)
        >= (value(before, replayed, **engagement) or 0) + len(missed) + 1
    )
    assert value(families, "switchboard_connections", **engagement) >= 1
    assert value(families, "switchboard_dependency_up", dependency="database") == 1
    (info,) = families["switchboard_process_info"].samples
    assert info.value == 1 and info.labels["async_mode"] == "eventlet"
    assert info.labels["process"].endswith(":" + info.labels["pid"])


def test_no_created_series(world: World) -> None:
    Api(world.url, api_key=world.key_a).get("/api/events")
    text = scrape_text(world.url)
    assert "_created" not in text
    assert "switchboard_http_requests_total" in text  # a counter with samples


def test_http_requests_are_labelled_by_route_not_path(world: World) -> None:
    tenant = world.tenant_a["id"]
    admin = world.api(world.admin)
    assert admin.get(f"/api/tenants/{tenant}/api-keys").status_code == 200
    stray = f"/no-such-page-{uuid.uuid4().hex}"
    assert requests.get(world.url + stray, timeout=10).status_code == 404
    brew = requests.request("BREW", world.url + "/health", timeout=10)
    assert brew.status_code == 405
    text = scrape_text(world.url)
    families = scrape(world.url)
    keys = {
        "method": "GET",
        "route": "/api/tenants/<int:tenant_id>/api-keys",
        "status": "200",
    }
    assert value(families, "switchboard_http_requests_total", **keys) >= 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(families, "switchboard_http_requests_total", **unmatched) >= 1
    # A method no rule takes matches no rule either.
    other = {"method": "other", "route": "unmatched", "status": "405"}
    assert value(families, "switchboard_http_requests_total", **other) >= 1
    # No raw path, id or invented method becomes a label value.
    assert stray not in text and "BREW" not in text
    assert f"/api/tenants/{tenant}/" not in text


def test_login_failures_are_counted_by_reason(
    server_factory: ServerFactory,
) -> None:
    live = server_factory({"LOGIN_MAX_FAILURES": "2", "LOGIN_FAILURE_WINDOW": "60"})
    user = next(u for u in live.seed["users"] if u["role"] == "client")
    api = {"endpoint": "api"}
    assert (
        value(
            scrape(live.url),
            "switchboard_login_failures_total",
            reason="rate_limited",
            **api,
        )
        == 0
    )  # exported from the start, so rate() works from the first failure
    for _ in range(2):
        wrong = requests.post(
            live.url + "/api/auth/login",
            json={"email": user["email"], "password": "not-the-password"},
            timeout=10,
        )
        assert wrong.status_code == 401
    throttled = requests.post(
        live.url + "/api/auth/login",
        json={"email": user["email"], "password": "not-the-password"},
        timeout=10,
    )
    assert throttled.status_code == 429
    world = build_world(live.url, live.seed)  # logs in: successes are no failures
    gone = world.add_user(world.tenant_a["id"])
    deleted = world.api(world.admin).delete(
        f"/api/tenants/{world.tenant_a['id']}/users/{gone.id}"
    )
    assert deleted.status_code == 204
    refused = requests.post(
        live.url + "/api/auth/login",
        json={"email": gone.email, "password": gone.password},
        timeout=10,
    )
    assert refused.json()["error"]["code"] == "user_deactivated"
    families = scrape(live.url)
    failures = "switchboard_login_failures_total"
    assert value(families, failures, reason="invalid_credentials", **api) == 2
    assert value(families, failures, reason="rate_limited", **api) == 1
    assert value(families, failures, reason="user_deactivated", **api) == 1


def test_refused_connects_are_counted_by_code(world: World) -> None:
    refused = "switchboard_connects_refused_total"
    before = value(scrape(world.url), refused, code="invalid_token") or 0
    error = connect_refusal(world.url, {"token": "not-a-token"})
    assert error["message"] == "invalid_token"
    after = wait_for_value(
        world.url, refused, lambda found: (found or 0) > before, code="invalid_token"
    )
    assert after == before + 1


def test_metrics_carry_no_tenant_data(world: World, sockets: SocketFactory) -> None:
    """Tenant isolation: /metrics is per process, never per tenant or user."""
    marker = f"secret-{uuid.uuid4().hex}"
    response = world.api(world.key_a).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {**ALERT, "title": marker},
            "target": {"tenant": world.tenant_a["id"]},
        },
    )
    assert response.status_code == 202, response.text
    client = sockets().connect(world.url, world.user_b.access_token, ["/engagement"])
    # An unknown event's name is the client's own text: never a label value.
    ack = client.call(f"made-up-{marker}", {}, namespace="/engagement", timeout=10)
    assert ack["error"]["code"] == "unknown_event", ack
    text = scrape_text(world.url)
    assert marker not in text
    assert 'event="unknown"' in text
    assert world.user_a.email not in text and world.key_a not in text
    assert "tenant:" not in text and "user:" not in text
    label_names = {
        label
        for family in scrape(world.url).values()
        for sample in family.samples
        for label in sample.labels
    }
    assert not label_names & {"tenant", "tenant_id", "user", "user_id", "room", "sid"}
