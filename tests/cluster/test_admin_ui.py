"""The Admin UI on a cluster: connected to one process, it sees the others too.

Two real processes share PostgreSQL and a Redis channel, both with ``ADMIN_UI=1``;
each reports through the queue under its own server id (``host:pid``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer
from tests.support.cluster_pair import two_processes
from tests.support.ops import (
    ADMIN_PASSWORD,
    ADMIN_UI_ENV,
    ADMIN_USERNAME,
    AdminClient,
    scrape,
)
from tests.support.sockets import SocketFactory
from tests.support.world import build_world

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def instrumented_pair(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[LiveServer]]:
    """Two Admin UI processes on one fresh database and one queue channel."""
    settings = {**ADMIN_UI_ENV, "MAX_CONNECTIONS_PER_USER": "5"}
    with two_processes(tmp_path_factory, "admin-cluster", settings) as servers:
        yield servers


def process_name(server: LiveServer) -> str:
    """The process label /metrics gives ``server`` (the Admin UI's server id)."""
    (info,) = scrape(server.url)["switchboard_process_info"].samples
    return str(info.labels["process"])


def test_admin_ui_on_one_process_sees_sockets_and_stats_of_both(
    instrumented_pair: list[LiveServer], sockets: SocketFactory
) -> None:
    one, two = instrumented_pair
    assert process_name(one) != process_name(two)
    world = build_world(one.url, one.seed)
    admin = AdminClient().connect(
        one.url, {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    try:
        admin.wait_for("config")
        # A client of the *other* process is reported to this one's admin, live.
        remote = sockets().connect(two.url, world.user_a.access_token)
        remote.wait_for("welcome")
        sid = remote.client.get_sid("/engagement")
        admin.wait_for("socket_connected", lambda args: args[0]["id"] == sid)
        room = f"tenant:{world.tenant_a['id']}"
        admin.wait_for("room_joined", lambda args: args[1:3] == (room, sid))
        # Both processes' stats arrive, each under its own id.
        for server in (one, two):
            name = process_name(server)
            admin.wait_for(
                "server_stats", lambda args, n=name: args[0]["serverId"] == n
            )
        remote.disconnect()
        admin.wait_for("socket_disconnected", lambda args: args[1] == sid)
    finally:
        admin.disconnect()
