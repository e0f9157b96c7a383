"""Metrics and the Admin UI under gunicorn's gevent worker, not only eventlet."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import LiveServer
from tests.support.ops import (
    ADMIN_PASSWORD,
    ADMIN_UI_ENV,
    ADMIN_USERNAME,
    AdminClient,
    scrape,
    value,
    wait_for_value,
)
from tests.support.server import GUNICORN
from tests.support.sockets import SocketRecorder
from tests.support.world import build_world


def test_gevent_worker_probes_exports_and_instruments(
    server_factory: Callable[..., LiveServer],
) -> None:
    live = server_factory(
        {**ADMIN_UI_ENV, "SOCKETIO_ASYNC_MODE": "gevent"}, command=GUNICORN
    )
    world = build_world(live.url, live.seed)
    client = SocketRecorder().connect(live.url, world.user_a.access_token)
    admin = AdminClient()
    try:
        client.wait_for("welcome")
        sid = client.client.get_sid("/engagement")
        admin.connect(
            live.url, {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        (listed,) = admin.wait_for("all_sockets")
        assert sid in {socket["id"] for socket in listed}
        up = wait_for_value(
            live.url,
            "switchboard_dependency_up",
            lambda v: v == 1,
            dependency="database",
        )
        assert up == 1
        families = scrape(live.url)
        (info,) = families["switchboard_process_info"].samples
        assert info.labels["async_mode"] == "gevent"
        assert value(
            families,
            "switchboard_http_requests_total",
            method="POST",
            route="/api/tenants",
            status="201",
        )
    finally:
        admin.disconnect()
        client.disconnect()
