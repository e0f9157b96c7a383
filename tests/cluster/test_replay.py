"""Gap-free delivery with several publishing processes on PostgreSQL + Redis.

Ids come from one PostgreSQL sequence; publishers on two processes commit
concurrently. Clients keep losing their transport and resume (sometimes on the
other process) from the last id they saw. Every client must end up with every
id exactly once, in increasing order.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.cluster_pair import pair  # noqa: F401 - module-scoped fixture
from tests.support.netfault import TcpProxy
from tests.support.server import LiveServer
from tests.support.sockets import ResumingClient
from tests.support.world import Api, World, build_world

PUBLISHER_THREADS = 8
EVENTS_PER_THREAD = 40


@pytest.fixture
def world_on(pair: list[LiveServer]) -> World:  # noqa: F811
    """A fresh tenant tree on the shared two-process cluster."""
    return build_world(pair[0].url, pair[0].seed)


@pytest.fixture
def proxies() -> Iterator[list[TcpProxy]]:
    """Proxies closed after the test."""
    made: list[TcpProxy] = []
    yield made
    for proxy in made:
        proxy.close()


def test_concurrent_publishers_on_two_processes_lose_and_repeat_nothing(
    pair: list[LiveServer],  # noqa: F811
    world_on: World,
    proxies: list[TcpProxy],
) -> None:
    world = world_on
    ports = [server.process.port for server in pair]
    members = [world.user_a, world.user_a, world.msp_user, world.msp_user]
    clients: list[ResumingClient] = []
    for index, member in enumerate(members):
        proxy = TcpProxy(ports[index % 2])
        proxies.append(proxy)
        client = ResumingClient(member.access_token, last_event_id=None)
        client.connect(proxy.url, None, ["/engagement"], auth=client.auth)
        client.wait_for("welcome")
        clients.append(client)
    # Everyone starts from "now", so each must see exactly what follows.
    first = (
        Api(world.url, api_key=world.key_a)
        .post(
            "/api/publish",
            json={
                "namespace": "/engagement",
                "event": "alert",
                "data": {"title": "start"},
                "target": {"tenant": world.tenant_a["id"]},
            },
        )
        .json()["id"]
    )
    for client in clients:
        client.wait_for_ids([first])

    published: list[int] = []
    lock = threading.Lock()
    done = threading.Event()

    def publish(thread_index: int) -> None:
        for n in range(EVENTS_PER_THREAD):
            url = pair[(thread_index + n) % 2].url
            response = Api(url, api_key=world.key_a).post(
                "/api/publish",
                json={
                    "namespace": "/engagement",
                    "event": "alert",
                    "data": {"title": f"t{thread_index}-{n}"},
                    "target": {"tenant": world.tenant_a["id"]},
                },
            )
            assert response.status_code == 202, response.text
            with lock:
                published.append(response.json()["id"])

    def churn() -> None:
        rng = random.Random(7)
        while not done.is_set():
            proxy = rng.choice(proxies)
            proxy.cut()
            time.sleep(rng.uniform(0.1, 0.6))
            proxy.restore(rng.choice(ports))  # may resume on the other process
            time.sleep(rng.uniform(0.1, 0.4))

    churner = threading.Thread(target=churn)
    churner.start()
    threads = [
        threading.Thread(target=publish, args=(i,)) for i in range(PUBLISHER_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    churner.join()
    for proxy in proxies:
        proxy.restore()

    expected = sorted(published)
    assert len(expected) == PUBLISHER_THREADS * EVENTS_PER_THREAD
    for client in clients:
        client.wait_for_ids(expected, timeout=60)
        seen = [i for i in client.ids if i > first]
        assert seen == expected, "every id exactly once, in order"
    reconnects = [len(client.of("welcome")) - 1 for client in clients]
    assert sum(reconnects) > 0, "the churn must have forced reconnections"
    for client in clients:
        client.disconnect()
