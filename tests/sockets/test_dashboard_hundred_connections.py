"""Source 003 (operations dashboard): 100 concurrent /dashboard connections.

The old suite's load scenario: 100 connections each get the initial analytics,
``/ws/status`` counts them, a broadcast reaches every one of them with a current
timestamp, none drops, and closing half of them is reflected in the counts.
Fan-out time is printed, never asserted (performance lives in bench/).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.events import Sockets
from tests.support.sockets import SocketRecorder
from tests.support.world import Member, World

DASH = "/dashboard"
CONNECTIONS = 100


def _active(world: World) -> int:
    return int(world.api().get("/ws/status").json()["active_connections"])


def _quiet_active(world: World) -> int:
    """/ws/status once earlier tests' disconnects have landed (two equal reads)."""
    previous = _active(world)
    while True:
        time.sleep(0.1)
        current = _active(world)
        if current == previous:
            return current
        previous = current


def _dashboards(world: World) -> dict[str, int]:
    """/dashboard connections per tenant, as the MSP user sees them."""
    tenants = world.api(world.msp_user).get("/ws/stats").json()["tenants"]
    return {
        tenant: int(row["namespaces"].get(DASH, 0)) for tenant, row in tenants.items()
    }


def _settle(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


def _raise_alert(world: World, title: str) -> float:
    response = world.api(world.key_a).post(
        "/api/dashboard/alerts", json={"title": title, "severity": "high"}
    )
    assert response.status_code == 201, response.text
    return time.monotonic()


def _delivered(recorders: list[SocketRecorder], title: str) -> list[dict[str, Any]]:
    return [
        recorder.wait_for(
            "alert", lambda e: e["data"]["title"] == title, DASH, timeout=30
        )[0]
        for recorder in recorders
    ]


def test_a_hundred_dashboards_get_the_snapshot_are_counted_and_all_get_broadcasts(
    world: World, sockets: Sockets
) -> None:
    a, msp = str(world.tenant_a["id"]), str(world.msp_tenant["id"])
    colleague = world.add_user(world.tenant_a["id"])
    # 40 + 40 client tabs and 20 MSP tabs (MAX_CONNECTIONS_PER_USER is 50 here).
    owners: list[Member] = (
        [world.user_a] * 40 + [colleague] * 40 + [world.msp_user] * 20
    )
    before = _quiet_active(world)

    def open_dashboard(member: Member) -> SocketRecorder:
        recorder = sockets().connect(world.url, member.access_token, [DASH])
        recorder.wait_for("analytics_update", namespace=DASH, timeout=30)
        return recorder

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        recorders = list(pool.map(open_dashboard, owners))
    print(f"\n{CONNECTIONS} dashboards connected in {time.monotonic() - started:.2f} s")

    # Every one got welcome, then exactly one initial snapshot of its own scope.
    for recorder, member in zip(recorders, owners, strict=True):
        names = [name for ns, name, _ in recorder.events if ns == DASH]
        assert names[:2] == ["welcome", "analytics_update"], names
        (snapshot,) = recorder.of("analytics_update", DASH)
        assert snapshot["id"] is None
        assert snapshot["data"]["scope"] == (
            "msp" if member.role == "msp" else "tenant"
        )
        assert snapshot["data"]["totals"]["open_alerts"] == 0
    assert _dashboards(world) == {a: 80, msp: 20, str(world.tenant_b["id"]): 0}
    _settle(lambda: _active(world) == before + CONNECTIONS)

    # One broadcast reaches all 100, with a current timestamp.
    sent = _raise_alert(world, "load-1")
    envelopes = _delivered(recorders, "load-1")
    print(f"alert fan-out to {CONNECTIONS}: {time.monotonic() - sent:.3f} s")
    assert len({e["id"] for e in envelopes}) == 1
    now = datetime.now(UTC)
    for envelope in envelopes:
        stamp = datetime.fromisoformat(envelope["timestamp"].replace("Z", "+00:00"))
        assert abs(now - stamp) < timedelta(seconds=30), envelope["timestamp"]
        assert envelope["room"] == f"tenant:{a}"
    assert all(recorder.client.connected for recorder in recorders)

    # Close half: the counts follow, and the other half still gets broadcasts.
    closing, staying = recorders[::2], recorders[1::2]
    for recorder in closing:
        recorder.disconnect()
    _settle(lambda: sum(_dashboards(world).values()) == CONNECTIONS // 2)
    _settle(lambda: _active(world) == before + CONNECTIONS // 2)
    _raise_alert(world, "load-2")
    _delivered(staying, "load-2")
    assert all(r.of("alert", DASH)[-1]["data"]["title"] == "load-1" for r in closing)
