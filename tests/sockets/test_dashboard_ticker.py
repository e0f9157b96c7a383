"""The periodic analytics_update: only for watched tenants, one task per process."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import requests
from flask import Flask

from tests.conftest import LiveServer
from tests.support.sockets import SocketRecorder
from tests.support.world import build_world
from webapp.extensions import get_socketio
from webapp.services.dashboard.analytics import AnalyticsChannel
from webapp.services.dashboard.ticker import AnalyticsTicker, analytics_interval

DASH = "/dashboard"
INTERVAL = 0.25


def snapshots(recorder: SocketRecorder, room: str) -> list[Any]:
    """analytics_update envelopes received for one room."""
    return [env for env in recorder.of("analytics_update", DASH) if env["room"] == room]


def published_snapshots(url: str) -> float:
    """How many analytics_update the server has emitted (from /metrics)."""
    text = requests.get(url + "/metrics", timeout=10).text
    match = re.search(
        r'switchboard_events_published_total\{namespace="/dashboard",'
        r'type="analytics_update"\} ([0-9.e+]+)',
        text,
    )
    return float(match.group(1)) if match else 0.0


def test_periodic_snapshots_only_for_watched_tenants_and_stop_after_the_last(
    server_factory: Callable[..., LiveServer],
    sockets: Callable[..., SocketRecorder],
) -> None:
    srv = server_factory({"ANALYTICS_INTERVAL": str(INTERVAL)})
    world = build_world(srv.url, srv.seed)
    room_msp = f"msp:{world.msp_tenant['id']}"
    room_a = f"tenant:{world.tenant_a['id']}"
    room_b = f"tenant:{world.tenant_b['id']}"

    # Nobody watching: nothing is emitted.
    time.sleep(INTERVAL * 3)
    assert published_snapshots(srv.url) == 0

    msp = sockets().connect(srv.url, world.msp_user.access_token, [DASH])
    msp.wait_for("analytics_update", lambda env: env["room"] == room_msp, count=3)
    assert snapshots(msp, room_a) == [] and snapshots(msp, room_b) == []

    # A's dashboard opens: A's room gets snapshots (the MSP hears them too), B's not.
    a = sockets().connect(srv.url, world.user_a.access_token, [DASH])
    a.wait_for("analytics_update", lambda env: env["room"] == room_a, count=3)
    msp.wait_for("analytics_update", lambda env: env["room"] == room_a, count=2)
    assert {env["room"] for env in a.of("analytics_update", DASH)} == {room_a}

    # The periodic snapshot is fresh: a new alert shows up without a refresh.
    alert = world.api(world.key_a).post("/api/dashboard/alerts", json={"title": "t"})
    assert alert.status_code == 201
    a.wait_for(
        "analytics_update", lambda env: env["data"]["totals"]["open_alerts"] == 1
    )

    # A's last dashboard leaves: A's room stops, the MSP's continues.
    a.disconnect()
    time.sleep(INTERVAL * 2)
    heard_a = len(snapshots(msp, room_a))
    heard_msp = len(snapshots(msp, room_msp))
    time.sleep(INTERVAL * 5)
    assert len(snapshots(msp, room_a)) == heard_a
    assert len(snapshots(msp, room_msp)) >= heard_msp + 3
    assert snapshots(msp, room_b) == []

    # The last watcher leaves: the server stops emitting altogether.
    msp.disconnect()
    time.sleep(INTERVAL * 2)
    emitted = published_snapshots(srv.url)
    time.sleep(INTERVAL * 5)
    assert published_snapshots(srv.url) == emitted

    # And starts again for the next watcher.
    again = sockets().connect(srv.url, world.user_b.access_token, [DASH])
    again.wait_for("analytics_update", lambda env: env["room"] == room_b, count=3)


def test_one_background_task_serves_every_watcher(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    started: list[Any] = []
    sio = get_socketio(app)
    monkeypatch.setattr(sio, "start_background_task", lambda fn: started.append(fn))
    ticker = AnalyticsTicker(app)
    ticker.watch("sid-1", AnalyticsChannel("tenant", 1))
    ticker.watch("sid-2", AnalyticsChannel("tenant", 1))
    ticker.watch("sid-3", AnalyticsChannel("msp", 2))
    assert len(started) == 1
    assert ticker.channels() == {
        AnalyticsChannel("tenant", 1),
        AnalyticsChannel("msp", 2),
    }
    ticker.unwatch("sid-1")
    ticker.unwatch("sid-3")
    assert ticker.channels() == {AnalyticsChannel("tenant", 1)}


def test_interval_defaults_to_30_seconds_and_reads_config(
    app: Flask, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ANALYTICS_INTERVAL", raising=False)
    assert analytics_interval(app) == 30.0
    app.config["ANALYTICS_INTERVAL"] = 2
    assert analytics_interval(app) == 2.0
