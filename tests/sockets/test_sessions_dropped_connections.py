"""Dropped connections leave their sessions: a killed client, a frozen client.

A dedicated server with a one-second heartbeat (PING_INTERVAL=1, PING_TIMEOUT=1)
so a client that stops answering is dropped within about two seconds.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from tests.conftest import LiveServer
from tests.support.engagement import kill_client, new_session, start_killable_client
from tests.support.sockets import SocketRecorder
from tests.support.world import World, build_world

HEARTBEAT = {"PING_INTERVAL": "1", "PING_TIMEOUT": "1"}


def test_killed_and_unresponsive_connections_leave_the_session(
    server_factory: Callable[..., LiveServer],
    sockets: Callable[..., SocketRecorder],
) -> None:
    server = server_factory(HEARTBEAT)
    world: World = build_world(server.url, server.seed)
    sid = new_session(world, world.user_a)["id"]
    observer = sockets().connect(world.url, world.msp_user.access_token)
    assert observer.call("join_session", {"session_id": sid})["count"] == 1

    killed = start_killable_client(world.url, world.user_a, sid)
    observer.wait_for("user_joined", lambda e: e["data"]["count"] == 2)
    kill_client(killed)  # SIGKILL: the socket closes without a disconnect packet
    (left,) = observer.wait_for("user_left", timeout=5)
    assert left["data"]["user"]["id"] == world.user_a.id
    assert left["data"]["count"] == 1

    frozen = start_killable_client(world.url, world.user_a, sid)
    observer.wait_for("user_joined", count=2)
    os.kill(frozen.pid, signal.SIGSTOP)  # TCP stays open; heartbeats go unanswered
    try:
        started = time.monotonic()
        observer.wait_for("user_left", count=2, timeout=8)
        assert time.monotonic() - started < 6
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
        kill_client(frozen)
    assert observer.of("user_left")[-1]["data"]["count"] == 1
    live = world.api(world.msp_user).get(f"/api/sessions/{sid}").json()
    assert [p["id"] for p in live["participants"]] == [world.msp_user.id]
