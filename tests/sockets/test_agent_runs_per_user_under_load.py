"""Source 002 (per-user AI-agent event emitters) on /events user rooms.

What the old suite tested beyond tests/sockets/test_agent_runs.py: 10+ concurrent users
each receiving only their own agent events under load (>100 events/s in the
report; measured and printed here, never asserted), and a user whose connection
drops mid-run: the run goes on without a WebSocket, and the reconnecting client
gets what it missed, in order (the old emitter's retries).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.support.events import Sockets, post_ok
from tests.support.netfault import TcpProxy
from tests.support.sockets import SocketRecorder
from tests.support.world import Member, World

USERS = 12
EVENTS_PER_RUN = 25  # agent_started, 23 steps, agent_completed


def _steps(n: int) -> list[tuple[str, dict[str, Any]]]:
    middle = [
        ("agent_thinking", {"thought": f"step {i}"})
        if i % 3 == 0
        else ("tool_executing", {"tool": "search", "input": {"i": i}})
        if i % 3 == 1
        else ("tool_completed", {"tool": "search", "output": f"result {i}"})
        for i in range(n - 2)
    ]
    return [("agent_started", {"name": "triage"}), *middle, ("agent_completed", {})]


def _start_run(world: World, member: Member) -> int:
    response = world.api(world.key_a).post(
        "/api/agent-runs", json={"user_id": member.id}
    )
    return int(post_ok(response)["id"])


def test_a_dozen_users_each_receive_only_their_own_runs_under_load(
    world: World, sockets: Sockets
) -> None:
    members = [world.add_user(world.tenant_a["id"]) for _ in range(USERS)]
    recorders = [
        sockets().connect(world.url, m.access_token, ["/events"]) for m in members
    ]
    for recorder in recorders:
        recorder.wait_for("welcome", namespace="/events")
    runs = [_start_run(world, m) for m in members]
    steps = _steps(EVENTS_PER_RUN)

    def drive(run_id: int) -> None:
        with requests.Session() as http:
            http.headers["X-API-Key"] = world.key_a
            for event, data in steps:
                response = http.post(
                    f"{world.url}/api/agent-runs/{run_id}/events",
                    json={"type": event, "data": data},
                    timeout=30,
                )
                assert response.status_code == 202, response.text

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        list(pool.map(drive, runs))
    for recorder in recorders:
        recorder.wait_for("agent_completed", namespace="/events", timeout=30)
    elapsed = time.monotonic() - started
    total = USERS * EVENTS_PER_RUN
    print(
        f"\n{total} agent events to {USERS} users in {elapsed:.2f} s "
        f"({total / elapsed:.0f} events/s end to end)"
    )

    names = [event for event, _ in steps]
    for member, recorder, run_id in zip(members, recorders, runs, strict=True):
        got = [
            data
            for ns, name, data in recorder.events
            if ns == "/events" and name != "welcome"
        ]
        assert [e["type"] for e in got] == names
        assert {e["data"]["run_id"] for e in got} == {run_id}
        assert [e["data"]["seq"] for e in got] == list(range(1, EVENTS_PER_RUN + 1))
        assert {e["room"] for e in got} == {f"user:{member.id}"}
        ids = [e["id"] for e in got]
        assert ids == sorted(ids) and len(set(ids)) == EVENTS_PER_RUN


class ResumingEventsClient(SocketRecorder):
    """Reconnects by itself to /events, sending the last event id it has seen."""

    def __init__(self, token: str) -> None:
        super().__init__(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5
        )
        self.token = token
        self.last_event_id: int | None = None
        self.dropped = threading.Event()
        self.client.on("*", handler=self._track, namespace="/events")
        self.client.on("disconnect", handler=self.dropped.set, namespace="/events")

    def auth(self) -> dict[str, Any]:
        """Sent on every (re)connection attempt."""
        payload: dict[str, Any] = {"token": self.token}
        if self.last_event_id is not None:
            payload["last_event_id"] = self.last_event_id
        return payload

    def _track(self, event: str, *args: Any) -> None:
        data = args[0] if args else None
        if isinstance(data, dict) and isinstance(data.get("id"), int):
            self.last_event_id = max(self.last_event_id or 0, data["id"])
        self._record("/events", event, data)


def test_a_run_continues_while_its_user_is_offline_and_is_replayed_on_reconnect(
    world: World,
) -> None:
    member = world.user_a
    proxy = TcpProxy(int(world.url.rsplit(":", 1)[1]))
    client = ResumingEventsClient(member.access_token)
    try:
        client.connect(proxy.url, None, ["/events"], auth=client.auth)
        run_id = _start_run(world, member)
        steps = _steps(6)

        def send(event: str, data: dict[str, Any]) -> int:
            response = world.api(world.key_a).post(
                f"/api/agent-runs/{run_id}/events", json={"type": event, "data": data}
            )
            return int(post_ok(response, 202)["id"])

        online = [send(*step) for step in steps[:2]]
        client.wait_for("agent_thinking", namespace="/events")

        proxy.cut()  # the network goes; the client keeps trying to reconnect
        assert client.dropped.wait(10)
        # No WebSocket: the run goes on, the events are accepted and kept.
        offline = [send(*step) for step in steps[2:5]]
        history = world.api(member).get(
            "/api/events", params={"namespace": "/events", "since_id": online[-1]}
        )
        assert [e["id"] for e in history.json()["events"]] == offline
        proxy.restore()

        (done,) = client.wait_for("replay_complete", namespace="/events", timeout=20)
        assert done == {"count": 3, "last_event_id": offline[-1], "recovered": True}
        final = send(*steps[5])
        client.wait_for("agent_completed", namespace="/events")
        got = [
            data
            for ns, name, data in client.events
            if ns == "/events" and name not in ("welcome", "replay_complete")
        ]
        assert [e["id"] for e in got] == [*online, *offline, final]
        assert [e["data"]["seq"] for e in got] == [1, 2, 3, 4, 5, 6]
        assert [bool(e.get("replayed")) for e in got] == [False] * 2 + [True] * 3 + [
            False
        ]
        assert [e["type"] for e in got] == [event for event, _ in steps]
    finally:
        client.disconnect()
        proxy.close()
