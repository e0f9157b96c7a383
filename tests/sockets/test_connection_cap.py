"""MAX_CONNECTIONS_PER_USER: one more connection is refused (too_many_connections)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import socketio

from tests.conftest import LiveServer
from tests.support.events import Sockets
from tests.support.sockets import connect_refusal
from tests.support.world import Api, build_world


def _active(url: str) -> int:
    return int(Api(url).get("/ws/status").json()["active_connections"])


def test_connections_over_the_per_user_cap_are_refused(
    server_factory: Callable[..., LiveServer], sockets: Sockets
) -> None:
    server = server_factory({"MAX_CONNECTIONS_PER_USER": "2"})
    world = build_world(server.url, server.seed)
    token = world.user_a.access_token
    first = sockets().connect(world.url, token, ["/events"])
    sockets().connect(world.url, token, ["/events"])
    assert _active(world.url) == 2

    error = connect_refusal(world.url, {"token": token}, "/events")
    assert error["message"] == "too_many_connections"
    assert error["data"]["message"] == "at most 2 connections per user"
    assert _active(world.url) == 2  # the refused one left nothing behind

    # The cap is per user and per namespace, and holds on /system too.
    sockets().connect(world.url, token, ["/system"])
    sockets().connect(world.url, token, ["/system"])
    assert connect_refusal(world.url, {"token": token}, "/system")["message"] == (
        "too_many_connections"
    )
    sockets().connect(world.url, world.user_b.access_token, ["/events"])

    # A slot freed by a disconnect can be used again.
    first.disconnect()
    deadline = time.monotonic() + 5
    while _active(world.url) != 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    sockets().connect(world.url, token, ["/events"])
    assert connect_refusal(world.url, {"token": token}, "/events")["message"] == (
        "too_many_connections"
    )

    # A burst of simultaneous attempts never gets past the cap.
    member = world.add_user(world.tenant_a["id"])
    outcomes: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        recorder = sockets()
        try:
            recorder.connect(world.url, member.access_token, ["/system"])
            accepted = True
        except socketio.exceptions.ConnectionError:
            accepted = False
        with lock:
            outcomes.append(accepted)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == [False] * 4 + [True] * 2
