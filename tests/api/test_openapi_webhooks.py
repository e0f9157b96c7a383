"""The OpenAPI document against what the webhook feature really does.

Real deliveries of every kind reach a receiver on 127.0.0.1 and each body and its
headers are validated against the document's top-level ``webhooks`` object; the
webhook REST routes' real answers (successes and errors) against their documented
responses; a client user's 403 on the alert actions against theirs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator, ValidationError

from tests.support.dashboard_page import Activity
from tests.support.server import LiveServer
from tests.support.sockets import SocketRecorder
from tests.support.webhooks import Receiver, create_webhook, receiver, start_server
from tests.support.world import Api, World, build_world, publish_alert
from webapp.api.webhook_payloads import add_webhooks
from webapp.services.webhooks.registry import EVENT_KINDS, MAX_WEBHOOKS_PER_TENANT

__all__ = ["receiver"]  # a fixture, used by name

WEBHOOKS = "/api/tenants/{tenant_id}/webhooks"
ONE = WEBHOOKS + "/{webhook_id}"


@pytest.fixture(scope="module")
def hook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server allowed to deliver to 127.0.0.1, with quick retries."""
    server = start_server(str(tmp_path_factory.mktemp("openapi_webhooks")))
    yield server
    server.process.stop()


@pytest.fixture(scope="module")
def document(hook_server: LiveServer) -> dict[str, Any]:
    """The document that server serves."""
    response = requests.get(f"{hook_server.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    return dict(response.json())


@pytest.fixture
def world(hook_server: LiveServer) -> World:
    """A fresh MSP with two client tenants."""
    return build_world(hook_server.url, hook_server.seed)


def check(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """Validate ``instance`` against a schema of ``document`` (its $refs resolved)."""
    rooted = {**schema, "components": document["components"]}
    Draft202012Validator(rooted).validate(instance)


def payload_schema(document: dict[str, Any], kind: str) -> dict[str, Any]:
    """The request body schema of the document's webhook ``kind``."""
    body = document["webhooks"][kind]["post"]["requestBody"]
    return dict(body["content"]["application/json"]["schema"])


def check_delivery(
    document: dict[str, Any], kind: str, headers: dict[str, str], body: Any
) -> None:
    """A delivery against its documented body and headers."""
    check(document, payload_schema(document, kind), body)
    for parameter in document["webhooks"][kind]["post"]["parameters"]:
        value: Any = headers[parameter["name"]]
        if parameter["schema"]["type"] == "integer":
            value = int(value)
        check(document, parameter["schema"], value)


def check_response(
    document: dict[str, Any], path: str, method: str, response: requests.Response
) -> dict[str, Any]:
    """A real response against the documented one for its status; the spec entry."""
    documented = document["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in documented, (path, method, status, response.text)
    entry = dict(documented[status])
    if "content" in entry:
        check(document, entry["content"]["application/json"]["schema"], response.json())
    return entry


def test_every_kind_is_in_the_document_once(document: dict[str, Any]) -> None:
    """The ``webhooks`` object names exactly the kinds a webhook may subscribe to."""
    assert set(document["webhooks"]) == set(EVENT_KINDS)
    for kind, item in document["webhooks"].items():
        schema = payload_schema(document, kind)
        name = schema["$ref"].rsplit("/", 1)[1]
        model = document["components"]["schemas"][name]
        assert model["properties"]["type"]["const"] == kind
        assert {"id", "type", "tenant_id", "created_at", "data"} <= set(
            model["required"]
        )
        headers = {p["name"] for p in item["post"]["parameters"]}
        assert {"Switchboard-Webhook-Id", "Switchboard-Signature"} <= headers


def test_the_subscribable_kinds_are_documented(document: dict[str, Any]) -> None:
    """A webhook's ``events`` lists the registry's kinds, and only those."""
    schemas = document["components"]["schemas"]
    events = schemas["WebhookCreateBody"]["properties"]["events"]
    assert events["items"]["enum"] == list(EVENT_KINDS)


def test_webhook_routes_take_a_bearer_token_only(document: dict[str, Any]) -> None:
    """Eight operations, each Bearer-only, with its 401/403/404 and JSON bodies."""
    operations = {
        (path, method): operation
        for path, item in document["paths"].items()
        if path.startswith("/api/tenants/{tenant_id}/webhooks")
        for method, operation in item.items()
    }
    assert len(operations) == 8
    for operation in operations.values():
        assert operation["security"] == [{"bearerAuth": []}]
        assert {"400", "401", "403", "404"} <= set(operation["responses"])
    for path, method in ((WEBHOOKS, "post"), (ONE, "patch")):
        body = operations[(path, method)]["requestBody"]["content"]
        assert body["application/json"]["schema"]["$ref"].endswith("Body")


def test_real_deliveries_of_every_kind_match_the_document(
    world: World, receiver: Receiver, document: dict[str, Any]
) -> None:
    """ping, event.published and the four presence kinds, as the receiver got them."""
    tenant = world.tenant_a["id"]
    hook = create_webhook(
        world.api(world.msp_user), tenant, receiver.url, list(EVENT_KINDS)
    )
    receiver.secret = hook["secret"]
    api = world.api(world.msp_user)
    assert api.post(f"/api/tenants/{tenant}/webhooks/{hook['id']}/test").ok
    published = publish_alert(world.api(world.key_a), tenant, "disk full", "high")
    assert published.status_code == 202, published.text
    session = api.post("/api/sessions", json={"title": "Sync", "tenant_id": tenant})
    assert session.status_code == 201, session.text
    tab = SocketRecorder().connect(world.url, world.user_a.access_token)
    try:
        tab.wait_for("welcome")
        for event in ("join_session", "leave_session"):
            ack = tab.call(event, {"session_id": session.json()["id"]})
            assert ack["ok"] is True, ack
    finally:
        tab.disconnect()

    got = receiver.wait_for(lambda got: len(got) >= len(EVENT_KINDS))
    assert sorted(r.payload["type"] for r in got) == sorted(EVENT_KINDS)
    for delivery in got:
        assert delivery.signed
        check_delivery(
            document, delivery.payload["type"], delivery.headers, delivery.payload
        )


def test_the_payload_check_can_fail(
    world: World, receiver: Receiver, document: dict[str, Any]
) -> None:
    """A real ping is refused as another kind, without its data, or unsigned."""
    tenant = world.tenant_a["id"]
    hook = create_webhook(world.api(world.msp_user), tenant, receiver.url, ["ping"])
    world.api(world.msp_user).post(f"/api/tenants/{tenant}/webhooks/{hook['id']}/test")
    (ping,) = receiver.wait_for(lambda got: len(got) == 1)
    check_delivery(document, "ping", ping.headers, ping.payload)
    with pytest.raises(ValidationError):
        check(document, payload_schema(document, "session.occupied"), ping.payload)
    without_data = {k: v for k, v in ping.payload.items() if k != "data"}
    with pytest.raises(ValidationError):
        check(document, payload_schema(document, "ping"), without_data)
    with pytest.raises(ValidationError):
        check_delivery(
            document,
            "ping",
            {**ping.headers, "Switchboard-Signature": "unsigned"},
            ping.payload,
        )


def test_webhook_routes_answer_as_documented(
    world: World, receiver: Receiver, document: dict[str, Any]
) -> None:
    """Each route's real success matches its documented response schema."""
    tenant = world.tenant_a["id"]
    api = world.api(world.msp_user)
    base = f"/api/tenants/{tenant}/webhooks"
    created = api.post(base, json={"url": receiver.url, "events": ["ping"]})
    assert created.status_code == 201
    check_response(document, WEBHOOKS, "post", created)
    hook = f"{base}/{created.json()['id']}"
    calls = [
        (WEBHOOKS, "get", api.get(base)),
        (ONE, "get", api.get(hook)),
        (ONE, "patch", api.patch(hook, json={"filter": {"types": ["alert"]}})),
        (ONE + "/rotate-secret", "post", api.post(hook + "/rotate-secret")),
        (ONE + "/test", "post", api.post(hook + "/test")),
    ]
    receiver.wait_for(lambda got: len(got) == 1)
    calls.append((ONE + "/deliveries", "get", _logged_attempt(api, hook)))
    calls.append((ONE, "delete", api.delete(hook)))
    for path, method, response in calls:
        assert response.status_code < 300, (path, method, response.text)
        check_response(document, path, method, response)


def _logged_attempt(api: Api, hook: str) -> requests.Response:
    """The delivery log once the ping's attempt is recorded (just after it arrived)."""
    deadline = time.monotonic() + 10
    while True:
        response = api.get(hook + "/deliveries")
        deliveries = response.json()["deliveries"]
        if deliveries and deliveries[0]["attempt_log"]:
            return response
        assert time.monotonic() < deadline, deliveries
        time.sleep(0.05)


def test_webhook_errors_are_documented_with_their_codes(
    hook_server: LiveServer, world: World, document: dict[str, Any]
) -> None:
    """Refused URL, too many webhooks, API key, client user, another tenant."""
    tenant = world.tenant_a["id"]
    api = world.api(world.msp_user)
    base = f"/api/tenants/{tenant}/webhooks"

    refused = api.post(base, json={"url": "ftp://example.com/x", "events": ["ping"]})
    assert refused.json()["error"]["code"] == "webhook_url_refused"
    entry = check_response(document, WEBHOOKS, "post", refused)
    assert "webhook_url_refused" in entry["description"]
    hook = create_webhook(api, tenant, "http://127.0.0.1:9/hook", ["ping"])
    one = f"{base}/{hook['id']}"
    patched = api.patch(one, json={"url": "http://"})
    assert patched.json()["error"]["code"] == "webhook_url_refused"
    entry = check_response(document, ONE, "patch", patched)
    assert "webhook_url_refused" in entry["description"]

    for _ in range(MAX_WEBHOOKS_PER_TENANT - 1):
        create_webhook(api, tenant, "http://127.0.0.1:9/hook", ["ping"])
    too_many = api.post(base, json={"url": "http://127.0.0.1:9/", "events": ["ping"]})
    assert too_many.json()["error"]["code"] == "too_many_webhooks"
    entry = check_response(document, WEBHOOKS, "post", too_many)
    assert "too_many_webhooks" in entry["description"]

    by_key = world.api(world.key_a).get(base)
    assert by_key.json()["error"]["code"] == "api_key_not_allowed"
    assert (
        "api_key_not_allowed"
        in check_response(document, WEBHOOKS, "get", by_key)["description"]
    )
    by_client = world.api(world.user_a).get(one)
    assert by_client.json()["error"]["code"] == "forbidden"
    check_response(document, ONE, "get", by_client)
    # Another MSP's user: the tenant and its webhook do not exist for them.
    stranger = world.api(build_world(hook_server.url, hook_server.seed).msp_user)
    for method, path, response in (
        ("get", ONE, stranger.get(one)),
        ("delete", ONE, stranger.delete(one)),
        ("post", ONE + "/rotate-secret", stranger.post(one + "/rotate-secret")),
    ):
        assert response.status_code == 404, response.text
        check_response(document, path, method, response)
    assert api.get(one).status_code == 200  # the stranger changed nothing


ALERT_ACTIONS = [
    ("patch", "/api/dashboard/alerts/{alert_id}", {"status": "acknowledged"}),
    ("post", "/api/dashboard/alerts/{alert_id}/acknowledge", None),
    ("post", "/api/dashboard/alerts/{alert_id}/resolve", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ALERT_ACTIONS)
def test_a_client_users_403_on_alert_actions_is_documented(
    world: World, document: dict[str, Any], method: str, path: str, body: Any
) -> None:
    """The server's ``forbidden`` answer is the documented 403, which explains it."""
    alert_id = Activity(world, world.key_a, world.tenant_a["id"]).alert("x")
    client: Api = world.api(world.user_a)
    response = client.request(method.upper(), path.format(alert_id=alert_id), json=body)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    entry = check_response(document, path, method, response)
    assert entry["description"].startswith("forbidden")
    assert "client user" in entry["description"]


def test_a_payload_model_cannot_replace_a_rest_schema_of_its_name() -> None:
    """Payload and REST models share components.schemas: a clash is refused."""
    clashing: dict[str, Any] = {"components": {"schemas": {"Ping": {"type": "null"}}}}
    with pytest.raises(ValueError, match="named Ping"):
        add_webhooks(clashing)
    fresh: dict[str, Any] = {}
    add_webhooks(fresh)
    assert set(fresh["webhooks"]) == set(EVENT_KINDS)
