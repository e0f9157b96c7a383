"""Agent runs: per-user events on /events, in order, sanitised, closed after the end."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.support.events import (
    Sockets,
    assert_envelope,
    assert_isolated,
    post_ok,
    received,
)
from tests.support.world import Member, World, build_world

STEPS: list[tuple[str, dict[str, Any]]] = [
    ("agent_started", {"name": "triage"}),
    ("agent_thinking", {"thought": "Looking at the last alerts"}),
    ("tool_executing", {"tool": "search_logs", "input": {"query": "door"}}),
    ("tool_completed", {"tool": "search_logs", "output": "3 matches"}),
    ("agent_thinking", {"thought": "Nothing unusual"}),
    ("agent_completed", {"result": "No action needed"}),
]


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    """One world per module: building one costs seconds (password hashing)."""
    return build_world(server.url, server.seed)


@pytest.fixture
def fresh_world(server: LiveServer) -> World:
    """A world of its own, for tests that compare whole histories or snapshots."""
    return build_world(server.url, server.seed)


def _start(world: World, who: Any, user: Member) -> int:
    run = post_ok(world.api(who).post("/api/agent-runs", json={"user_id": user.id}))
    assert run["status"] == "running" and run["user_id"] == user.id
    return int(run["id"])


def _send(world: World, who: Any, run_id: int, event: str, data: Any) -> Any:
    return world.api(who).post(
        f"/api/agent-runs/{run_id}/events", json={"type": event, "data": data}
    )


def test_agent_events_reach_only_their_user_in_order(
    world: World, sockets: Sockets
) -> None:
    a = world.tenant_a["id"]
    owner, colleague = world.add_user(a), world.add_user(a)
    first = sockets().connect(world.url, owner.access_token, ["/events", "/system"])
    second = sockets().connect(world.url, owner.access_token, ["/events"])
    other = sockets().connect(world.url, colleague.access_token, ["/events"])
    msp = sockets().connect(world.url, world.msp_user.access_token, ["/events"])

    run_id = _start(world, world.key_a, owner)
    for event, data in STEPS:
        result = post_ok(_send(world, world.key_a, run_id, event, data), 202)
        assert result["room"] == f"user:{owner.id}"
    names = [event for event, _ in STEPS]
    for recorder in (first, second):
        recorder.wait_for("agent_completed", namespace="/events")
        assert received(recorder, "/events") == names
        envelopes = [data for ns, name, data in recorder.events if name in names]
        assert [e["data"]["seq"] for e in envelopes] == [1, 2, 3, 4, 5, 6]
        for envelope, (event, data) in zip(envelopes, STEPS, strict=True):
            assert_envelope(envelope, event, "/events", f"user:{owner.id}", a)
            assert envelope["data"] == {
                **data,
                "run_id": run_id,
                "seq": envelope["data"]["seq"],
            }
        assert [e["id"] for e in envelopes] == sorted(e["id"] for e in envelopes)
    assert received(first, "/system") == []

    # Markers: each bystander's own run arrives, and it is all they ever got.
    for member, recorder, key in (
        (colleague, other, world.key_a),
        (world.msp_user, msp, world.key_msp),
    ):
        marker = _start(world, key, member)
        post_ok(_send(world, key, marker, "agent_started", {}), 202)
        recorder.wait_for("agent_started")
        assert received(recorder, "/events") == ["agent_started"]
        assert recorder.of("agent_started")[0]["data"]["run_id"] == marker
        assert_isolated(
            recorder,
            {f"tenant:{t}" for t in (a, world.tenant_b["id"], world.msp_tenant["id"])}
            | {f"user:{member.id}", f"msp:{world.msp_tenant['id']}"},
            {a, world.tenant_b["id"], world.msp_tenant["id"]},
        )
    assert_isolated(first, {f"tenant:{a}", f"user:{owner.id}"}, {a})

    history = world.api(colleague).get("/api/events", params={"namespace": "/events"})
    assert [e["data"]["run_id"] for e in history.json()["events"]] == [marker_id(other)]
    mine = world.api(owner).get("/api/events", params={"namespace": "/events"})
    assert [e["type"] for e in mine.json()["events"]] == names


def marker_id(recorder: Any) -> int:
    """The run id of the first agent event a recorder got."""
    return int(recorder.of("agent_started")[0]["data"]["run_id"])


@pytest.mark.parametrize("last", ["agent_completed", "agent_error"])
def test_an_event_after_the_run_ended_is_refused_with_409(
    world: World, last: str
) -> None:
    run_id = _start(world, world.key_a, world.user_a)
    post_ok(_send(world, world.key_a, run_id, "agent_started", {}), 202)
    post_ok(_send(world, world.key_a, run_id, last, {"message": "done"}), 202)
    for event in ("agent_thinking", "agent_completed", "agent_error"):
        response = _send(world, world.key_a, run_id, event, {})
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "run_finished"
    run = world.api(world.key_a).get(f"/api/agent-runs/{run_id}").json()
    expected = "completed" if last == "agent_completed" else "failed"
    assert run["status"] == expected and run["event_count"] == 2
    assert run["finished_at"].endswith("Z")


def test_runs_of_other_tenants_users_are_not_found(world: World) -> None:
    response = world.api(world.key_a).post(
        "/api/agent-runs", json={"user_id": world.user_b.id}
    )
    assert response.status_code == 404
    run_id = _start(world, world.key_a, world.user_a)
    assert _send(world, world.key_b, run_id, "agent_started", {}).status_code == 404
    assert world.api(world.key_b).get(f"/api/agent-runs/{run_id}").status_code == 404
    assert _send(world, world.key_a, 10**9, "agent_started", {}).status_code == 404
    # The MSP manages tenant A, so its key may run agents for A's users.
    _start(world, world.key_msp, world.user_a)


def test_client_users_may_not_drive_agent_runs(world: World) -> None:
    api = world.api(world.user_a)
    assert (
        api.post("/api/agent-runs", json={"user_id": world.user_a.id}).status_code
        == 403
    )
    run_id = _start(world, world.key_a, world.user_a)
    assert _send(world, world.user_a, run_id, "agent_started", {}).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "agent_exploded", "data": {}}, "type"),
        ({"data": {}}, "type"),
        ({"type": "agent_thinking", "data": "thinking"}, "data"),
        ({"type": "agent_thinking", "data": {"run_id": 1}}, "data.run_id"),
        ({"type": "agent_thinking", "data": {"seq": 9}}, "data.seq"),
        ({"type": "agent_thinking", "data": {}, "user_id": 3}, "user_id"),
    ],
)
def test_invalid_agent_events_are_a_400_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    run_id = _start(world, world.key_a, world.user_a)
    response = world.api(world.key_a).post(
        f"/api/agent-runs/{run_id}/events", json=body
    )
    assert response.status_code == 400, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_agent_error_carries_no_server_internals(
    world: World, sockets: Sockets
) -> None:
    user_a = sockets().connect(world.url, world.user_a.access_token, ["/events"])
    run_id = _start(world, world.key_a, world.user_a)
    traceback = (
        'Traceback (most recent call last):\n  File "/srv/agent/run.py", '
        "line 42, in step\nKeyError: 'db_password'"
    )
    post_ok(
        _send(
            world,
            world.key_a,
            run_id,
            "agent_error",
            {
                "message": traceback,
                "code": "tool_timeout",
                "traceback": traceback,
                "details": {
                    "stack_trace": ["frame"],
                    "tool": "search_logs",
                    "hint": f"see {traceback}",
                },
                "Exception": "KeyError",
            },
        ),
        202,
    )
    (envelope,) = user_a.wait_for("agent_error")
    assert envelope["data"] == {
        "message": "the agent run failed",
        "code": "tool_timeout",
        "details": {"tool": "search_logs", "hint": "[redacted: server internals]"},
        "run_id": run_id,
        "seq": 1,
    }


def test_agent_payloads_are_size_capped(world: World, sockets: Sockets) -> None:
    user_a = sockets().connect(world.url, world.user_a.access_token, ["/events"])
    run_id = _start(world, world.key_a, world.user_a)
    post_ok(
        _send(world, world.key_a, run_id, "agent_thinking", {"thought": "x" * 10_000}),
        202,
    )
    (envelope,) = user_a.wait_for("agent_thinking")
    assert envelope["data"]["thought"] == "x" * 4000 + "…"

    too_big = {f"k{i}": "y" * 1000 for i in range(20)}
    response = _send(world, world.key_a, run_id, "tool_completed", too_big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    too_deep: dict[str, Any] = {}
    node = too_deep
    for _ in range(12):
        node["n"] = {}
        node = node["n"]
    assert (
        _send(world, world.key_a, run_id, "tool_completed", too_deep).status_code == 400
    )

    # Refused events neither reached the user nor used a sequence number.
    post_ok(_send(world, world.key_a, run_id, "agent_completed", {}), 202)
    (done,) = user_a.wait_for("agent_completed")
    assert done["data"]["seq"] == 2
    assert received(user_a, "/events") == ["agent_thinking", "agent_completed"]
