"""Webhooks end to end: a real server delivering to a real HTTP receiver.

One server (SQLite, eventlet) with ``WEBHOOK_ALLOW_PRIVATE=1`` and quick retry
settings for the module; each test builds a fresh tenant tree and receiver.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.engagement import new_session
from tests.support.server import LiveServer
from tests.support.sockets import SocketRecorder
from tests.support.webhooks import (
    Received,
    Receiver,
    call_ok,
    create_webhook,
    receiver,
    start_server,
)
from tests.support.world import (
    Api,
    Member,
    World,
    build_world,
    publish_alert,
    publish_alerts,
)
from webapp.services.webhooks.signer import verify

__all__ = ["receiver"]  # a fixture, used by name

PRESENCE = [
    "session.occupied",
    "session.vacated",
    "session.member_added",
    "session.member_removed",
]


@pytest.fixture(scope="module")
def hook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The module's server, allowed to call 127.0.0.1."""
    server = start_server(str(tmp_path_factory.mktemp("webhooks")))
    yield server
    server.process.stop()


@pytest.fixture
def world(hook_server: LiveServer) -> World:
    """A fresh MSP with two client tenants on the module's server."""
    return build_world(hook_server.url, hook_server.seed)


@pytest.fixture
def connect(world: World) -> Iterator[Callable[[Member], SocketRecorder]]:
    """Welcomed /engagement connections (tabs); closed after the test."""
    made: list[SocketRecorder] = []

    def make(member: Member) -> SocketRecorder:
        recorder = SocketRecorder().connect(world.url, member.access_token)
        recorder.wait_for("welcome")
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.disconnect()


def _summary(received: list[Any]) -> list[tuple[str, Any]]:
    return [
        (r.payload["type"], r.payload["data"].get("user", {}).get("id"))
        for r in received
    ]


def test_ping_is_signed_with_the_secret_and_logged(
    world: World, receiver: Receiver
) -> None:
    api = world.api(world.msp_user)
    tenant = world.tenant_a["id"]
    hook = create_webhook(api, tenant, receiver.url, ["ping"], description="ci")
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["ping"]
    assert (
        "secret" not in api.get(f"/api/tenants/{tenant}/webhooks/{hook['id']}").json()
    )
    receiver.secret = hook["secret"]

    queued = api.post(f"/api/tenants/{tenant}/webhooks/{hook['id']}/test")
    assert queued.status_code == 202, queued.text
    (ping,) = receiver.wait_for(lambda got: len(got) == 1)
    assert ping.signed, ping.headers
    assert (
        ping.headers["Switchboard-Webhook-Id"] == ping.id == queued.json()["event_id"]
    )
    assert ping.payload["type"] == "ping" and ping.payload["tenant_id"] == tenant
    assert set(ping.payload) == {"id", "type", "tenant_id", "created_at", "data"}

    # A rotated secret signs from then on; during WEBHOOK_SECRET_GRACE (a day
    # here) the old one signs too, a second v1=, so the receiver keeps accepting.
    rotated = api.post(f"/api/tenants/{tenant}/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200 and rotated.json()["secret"] != hook["secret"]
    api.post(f"/api/tenants/{tenant}/webhooks/{hook['id']}/test")
    second = receiver.wait_for(lambda got: len(got) == 2)[1]
    header = second.headers["Switchboard-Signature"]
    assert second.signed and header.count("v1=") == 2, header
    assert verify(rotated.json()["secret"], header, second.body)
    receiver.secret = rotated.json()["secret"]
    api.post(f"/api/tenants/{tenant}/webhooks/{hook['id']}/test")
    assert receiver.wait_for(lambda got: len(got) == 3)[2].signed

    metrics = Api(world.url).get("/metrics").text
    assert 'switchboard_webhook_attempts_total{outcome="delivered"}' in metrics
    assert "switchboard_webhook_attempt_seconds_count" in metrics
    assert "switchboard_webhook_pending" in metrics

    log = api.get(f"/api/tenants/{tenant}/webhooks/{hook['id']}/deliveries").json()
    first = log["deliveries"][-1]
    assert first["state"] == "delivered" and first["event_id"] == ping.id
    assert [a["status"] for a in first["attempt_log"]] == [200]
    assert first["attempt_log"][0]["response"] == "ok"


def test_presence_transitions_for_two_users_one_with_two_tabs(
    world: World, receiver: Receiver, connect: Callable[[Member], SocketRecorder]
) -> None:
    tenant = world.tenant_a["id"]
    hook = create_webhook(world.api(world.msp_user), tenant, receiver.url, PRESENCE)
    receiver.secret = hook["secret"]
    alice, bob = world.user_a, world.add_user(tenant)
    session = new_session(world, alice)["id"]
    alice_1, alice_2, bob_tab = connect(alice), connect(alice), connect(bob)

    call_ok(alice_1, "join_session", session)
    call_ok(alice_2, "join_session", session)  # a second tab: nothing new
    call_ok(bob_tab, "join_session", session)
    call_ok(alice_1, "leave_session", session)  # alice still has a tab
    receiver.wait_for(lambda got: len(got) >= 3)
    call_ok(alice_2, "leave_session", session)
    bob_tab.disconnect()  # leaving by disconnecting counts too

    expected = [
        ("session.occupied", alice.id),
        ("session.member_added", alice.id),
        ("session.member_added", bob.id),
        ("session.member_removed", alice.id),
        ("session.member_removed", bob.id),
        ("session.vacated", bob.id),
    ]
    got = receiver.wait_for(lambda got: len(got) >= len(expected))
    time.sleep(0.5)  # anything extra (a duplicate) would arrive by now
    assert _summary(receiver.of()) == expected
    assert all(r.signed for r in got)
    assert [r.payload["data"]["count"] for r in got] == [1, 1, 2, 1, 0, 0]
    assert {r.payload["data"]["session_id"] for r in got} == {session}
    assert len({r.id for r in got}) == len(expected)


def test_event_published_filtered_by_type(world: World, receiver: Receiver) -> None:
    tenant = world.tenant_a["id"]
    hook = create_webhook(
        world.api(world.msp_user),
        tenant,
        receiver.url,
        ["event.published"],
        filter={"namespace": "/engagement", "types": ["alert"]},
    )
    receiver.secret = hook["secret"]
    publisher = world.api(world.key_a)
    sent = publish_alert(publisher, tenant, "disk full", "high")
    assert sent.status_code == 202, sent.text
    # Filtered out: another type, and the same type in another namespace.
    for event, data in (
        ("metrics_update", {"metrics": {"cpu": 0.5}}),
        ("alert", {"alert_id": 4, "severity": "low", "title": "x", "status": "open"}),
    ):
        other = publisher.post(
            "/api/publish",
            json={
                "namespace": "/dashboard",
                "event": event,
                "data": data,
                "target": {"tenant": tenant},
            },
        )
        assert other.status_code == 202, other.text
    # Another tenant's alert never reaches this tenant's webhook.
    publish_alert(world.api(world.key_b), world.tenant_b["id"], "not yours")
    (delivery,) = receiver.wait_for(lambda got: len(got) >= 1)
    assert delivery.signed
    envelope = delivery.payload["data"]
    assert delivery.payload["type"] == "event.published"
    assert envelope["id"] == sent.json()["id"] and envelope["type"] == "alert"
    assert envelope["data"]["title"] == "disk full"
    # Published later than the filtered-out event: once it is here, nothing else is.
    last = publish_alert(publisher, tenant, "last")
    got = receiver.wait_for(lambda got: len(got) >= 2)
    time.sleep(0.3)
    assert [r.payload["data"]["id"] for r in receiver.of()] == [
        sent.json()["id"],
        last.json()["id"],
    ]
    assert got[1].payload["data"]["data"]["title"] == "last"


def test_500_twice_then_200_is_three_attempts_with_growing_delays(
    world: World, receiver: Receiver
) -> None:
    api = world.api(world.msp_user)
    tenant = world.tenant_a["id"]
    hook = create_webhook(api, tenant, receiver.url, ["ping"])
    receiver.secret = hook["secret"]
    receiver.script = [500, 500]
    api.post(f"/api/tenants/{tenant}/webhooks/{hook['id']}/test")
    got = receiver.wait_for(lambda got: len(got) >= 3)
    time.sleep(1.5)  # a fourth attempt would come within this
    got = receiver.of()
    assert [r.status for r in got] == [500, 500, 200]
    assert len({r.id for r in got}) == 1
    assert [r.headers["Switchboard-Webhook-Attempt"] for r in got] == ["1", "2", "3"]
    first_wait, second_wait = got[1].at - got[0].at, got[2].at - got[1].at
    assert 0.3 < first_wait < second_wait, (first_wait, second_wait)
    (delivery,) = api.get(
        f"/api/tenants/{tenant}/webhooks/{hook['id']}/deliveries"
    ).json()["deliveries"]
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    assert [a["status"] for a in delivery["attempt_log"]] == [500, 500, 200]
    assert delivery["attempt_log"][0]["next_attempt_at"]


def test_a_4xx_is_not_retried_but_429_is(world: World, receiver: Receiver) -> None:
    api = world.api(world.msp_user)
    tenant = world.tenant_a["id"]
    hook = create_webhook(api, tenant, receiver.url, ["ping"])
    path = f"/api/tenants/{tenant}/webhooks/{hook['id']}"
    receiver.script = [410]
    api.post(path + "/test")
    receiver.wait_for(lambda got: len(got) >= 1)
    deadline = time.monotonic() + 10
    while api.get(path + "/deliveries").json()["deliveries"][0]["state"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    failing = api.get(path).json()
    assert failing["status"] == "failing" and failing["failing_since"]
    receiver.script = [429]
    receiver.retry_after = "2"  # longer than the 0.5 s backoff: it wins
    api.post(path + "/test")
    receiver.wait_for(lambda got: len(got) >= 3)
    time.sleep(1.0)
    got = receiver.of()
    assert [r.status for r in got] == [410, 429, 200]
    assert got[2].at - got[1].at >= 1.9
    states = [d["state"] for d in api.get(path + "/deliveries").json()["deliveries"]]
    assert states == ["delivered", "failed"]  # newest first
    assert api.get(path).json()["status"] == "active"  # one success is enough


def test_a_receiver_slower_than_the_timeout_is_retried_and_the_server_serves_on(
    world: World, receiver: Receiver
) -> None:
    api = world.api(world.msp_user)
    tenant = world.tenant_a["id"]
    hook = create_webhook(api, tenant, receiver.url, ["ping"])
    path = f"/api/tenants/{tenant}/webhooks/{hook['id']}"
    receiver.delays = [4.0]  # WEBHOOK_TIMEOUT is 2 s in this module
    api.post(path + "/test")
    receiver.wait_for(lambda got: len(got) >= 1)
    # While the sender waits on the receiver, the server goes on serving.
    published = publish_alert(world.api(world.key_a), tenant, "meanwhile")
    assert published.status_code == 202, published.text
    receiver.wait_for(lambda got: len(got) >= 2)
    deadline = time.monotonic() + 10
    while (log := api.get(path + "/deliveries").json()["deliveries"][0])[
        "state"
    ] != "delivered":
        assert time.monotonic() < deadline, log
        time.sleep(0.1)
    first, second = log["attempt_log"]
    assert first["status"] is None and "timed out" in first["error"].lower(), first
    assert second["status"] == 200


def test_another_tenant_cannot_see_or_trigger_the_webhook(
    world: World, hook_server: LiveServer, receiver: Receiver
) -> None:
    tenant = world.tenant_a["id"]
    hook = create_webhook(world.api(world.msp_user), tenant, receiver.url, ["ping"])
    path = f"/api/tenants/{tenant}/webhooks/{hook['id']}"
    stranger = build_world(hook_server.url, hook_server.seed).msp_user
    for who in (stranger,):
        api = world.api(who)
        assert api.get(f"/api/tenants/{tenant}/webhooks").status_code == 404
        for method, suffix in (
            ("get", ""),
            ("patch", ""),
            ("delete", ""),
            ("post", "/test"),
            ("post", "/rotate-secret"),
            ("get", "/deliveries"),
        ):
            response = api.request(method, path + suffix, json={"enabled": False})
            assert response.status_code == 404, (method, suffix, response.text)
            assert response.json()["error"]["code"] == "not_found"
    # The sibling tenant's id in the path does not reach it either.
    sibling = f"/api/tenants/{world.tenant_b['id']}/webhooks/{hook['id']}"
    assert world.api(world.msp_user).get(sibling).status_code == 404
    # A client user of the very tenant may not manage webhooks.
    client = world.api(world.user_a).get(f"/api/tenants/{tenant}/webhooks")
    assert client.status_code == 403
    assert client.json()["error"]["code"] == "forbidden"
    # None of that sent anything, or changed it.
    time.sleep(0.5)
    assert receiver.of() == []
    listed = world.api(world.msp_user).get(f"/api/tenants/{tenant}/webhooks").json()
    assert [h["id"] for h in listed["webhooks"]] == [hook["id"]]
    assert listed["webhooks"][0]["enabled"] is True


def test_bad_input_is_the_json_error_shape(world: World, receiver: Receiver) -> None:
    api = world.api(world.msp_user)
    base = f"/api/tenants/{world.tenant_a['id']}/webhooks"
    cases: list[dict[str, Any]] = [
        {"url": receiver.url, "events": ["session.exploded"]},
        {"url": receiver.url, "events": []},
        {"url": "ftp://example.com/x", "events": ["ping"]},
        {"url": "http://user:pw@127.0.0.1/x", "events": ["ping"]},
        {"url": receiver.url, "events": ["ping"], "secret": "mine"},
        {
            "url": receiver.url,
            "events": ["event.published"],
            "filter": {"types": ["no_such_event"]},
        },
    ]
    for body in cases:
        response = api.post(base, json=body)
        assert response.status_code == 400, (body, response.text)
        assert set(response.json()["error"]) >= {"code", "message"}
    assert api.post(base, data="nope").status_code == 400
    hook = create_webhook(api, world.tenant_a["id"], receiver.url, ["ping"])
    patched = api.patch(f"{base}/{hook['id']}", json={"enabled": "sometimes"})
    assert patched.status_code == 400
    # An explicit null is refused (it used to be a 500, or to disable the hook);
    # only the filter may be null.
    for field in ("url", "events", "description", "enabled"):
        patched = api.patch(f"{base}/{hook['id']}", json={field: None})
        assert patched.status_code == 400, (field, patched.text)
        error = patched.json()["error"]
        assert error["code"] == "validation_error", patched.text
        assert error["details"][0]["field"] == field, patched.text
    unchanged = api.get(f"{base}/{hook['id']}").json()
    assert unchanged["enabled"] is True and unchanged["events"] == ["ping"]
    cleared = api.patch(f"{base}/{hook['id']}", json={"filter": None})
    assert cleared.status_code == 200, cleared.text


def test_kill_9_with_deliveries_pending_loses_none_and_repeats_none(
    world: World, hook_server: LiveServer, receiver: Receiver
) -> None:
    """Kills and restarts the module's server (near the end of the module)."""
    tenant = world.tenant_a["id"]
    create_webhook(world.api(world.msp_user), tenant, receiver.url, ["event.published"])
    receiver.default_status = 503  # down: every delivery stays pending
    ids = publish_alerts(world.url, world.key_a, tenant, 5, prefix="kill")
    receiver.wait_for(lambda got: len({r.id for r in got}) == 5)
    hook_server.process.kill()
    receiver.default_status = 200
    hook_server.process.start()  # same database, same port

    def delivered(got: list[Received]) -> bool:
        return len({r.id for r in got if r.status == 200}) == 5

    receiver.wait_for(delivered, timeout=30)
    time.sleep(1.0)  # a repeat would come within this
    ok = [r for r in receiver.of() if r.status == 200]
    assert len(ok) == 5, [r.id for r in ok]  # none twice
    assert sorted(r.payload["data"]["id"] for r in ok) == sorted(ids)


def test_without_allow_private_urls_are_refused_at_save_and_at_send(
    world: World, hook_server: LiveServer, receiver: Receiver
) -> None:
    """Last in the module: restarts its server without WEBHOOK_ALLOW_PRIVATE.

    The webhook saved while private targets were allowed is refused at send time
    (the address is checked at every attempt), and failing every attempt for
    WEBHOOK_DISABLE_AFTER (1 s here) disables it.
    """
    api = world.api(world.msp_user)
    base = f"/api/tenants/{world.tenant_a['id']}/webhooks"
    hook = create_webhook(api, world.tenant_a["id"], receiver.url, ["ping"])
    hook_server.process.stop()
    hook_server.process.env = dict(
        hook_server.env, WEBHOOK_ALLOW_PRIVATE="0", WEBHOOK_DISABLE_AFTER="1"
    )
    hook_server.process.start()

    for url in (
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:192.168.0.1]/hook",
    ):
        response = api.post(base, json={"url": url, "events": ["ping"]})
        assert response.status_code == 400, (url, response.text)
        assert response.json()["error"]["code"] == "webhook_url_refused", url
    moved = api.patch(f"{base}/{hook['id']}", json={"url": "http://10.0.0.1/"})
    assert moved.status_code == 400
    assert moved.json()["error"]["code"] == "webhook_url_refused"

    assert api.post(f"{base}/{hook['id']}/test").status_code == 202
    deadline = time.monotonic() + 15
    while api.get(f"{base}/{hook['id']}").json()["enabled"]:
        assert time.monotonic() < deadline, "the webhook was never disabled"
        time.sleep(0.2)
    state = api.get(f"{base}/{hook['id']}").json()
    assert state["status"] == "disabled" and "failed" in state["disabled_reason"]
    (ping,) = api.get(f"{base}/{hook['id']}/deliveries").json()["deliveries"]
    assert ping["attempts"] >= 2 and ping["state"] == "pending"
    assert all(
        a["status"] is None and a["error"].startswith("refused")
        for a in ping["attempt_log"]
    )
    assert receiver.of() == []  # nothing ever reached 127.0.0.1
