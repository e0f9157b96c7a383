"""Periodic dashboard snapshots are sent once per interval for the whole cluster."""

from __future__ import annotations

import time
import uuid

from tests.support.server import ServerFactory
from tests.support.sockets import SocketRecorder
from tests.support.world import build_world

INTERVAL = 0.5


def test_a_tenant_watched_on_two_processes_gets_one_snapshot_per_interval(
    server_factory: ServerFactory, postgres_url: str, redis_url: str
) -> None:
    env = {
        "MESSAGE_QUEUE_URL": redis_url,
        "MESSAGE_QUEUE_CHANNEL": f"sb-dash-{uuid.uuid4().hex[:8]}",
        "ANALYTICS_INTERVAL": str(INTERVAL),
    }
    one = server_factory(env, database_url=postgres_url)
    two = server_factory(env, database_url=postgres_url, seed=False)
    world = build_world(one.url, one.seed)
    viewers = [
        SocketRecorder().connect(server.url, world.user_a.access_token, ["/dashboard"])
        for server in (one, two)
    ]
    try:
        for viewer in viewers:
            viewer.wait_for("analytics_update")  # the snapshot at connect
        start = [len(viewer.of("analytics_update")) for viewer in viewers]
        window = 4.0
        time.sleep(window)
        periodic = [
            len(viewer.of("analytics_update")) - before
            for viewer, before in zip(viewers, start, strict=True)
        ]
        # Each viewer is in the tenant room, so each sees every periodic snapshot:
        # about window / INTERVAL of them, not twice that (one per process).
        for count in periodic:
            assert window / INTERVAL * 0.5 <= count <= window / INTERVAL + 2, periodic
    finally:
        for viewer in viewers:
            viewer.disconnect()
