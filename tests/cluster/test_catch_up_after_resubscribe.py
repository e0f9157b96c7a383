"""A process cut off from Redis catches its clients up when it resubscribes.

Its clients stay connected to it, so nothing would make them reconnect and
replay: the process itself must deliver what was published meanwhile.
"""

from __future__ import annotations

import time
import uuid

from tests.support.netfault import TcpProxy
from tests.support.server import LiveServer, ServerFactory
from tests.support.sockets import ResumingClient, SocketRecorder
from tests.support.world import Api, build_world


def _publish(url: str, key: str, tenant_id: int, title: str) -> int:
    response = Api(url, api_key=key).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": title},
            "target": {"tenant": tenant_id},
        },
    )
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def _wait_ready(url: str, status: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while Api(url).get("/ready").status_code != status:
        assert time.monotonic() < deadline, f"/ready never answered {status}"
        time.sleep(0.2)


def _cut_off_pair(
    server_factory: ServerFactory,
    postgres_url: str,
    redis_url: str,
    extra: dict[str, str] | None = None,
) -> tuple[LiveServer, LiveServer, TcpProxy]:
    """Two processes on one database; the second reaches Redis through a proxy."""
    redis_port = int(redis_url.split("//", 1)[1].split(":", 1)[1].split("/", 1)[0])
    proxy = TcpProxy(redis_port)
    common = {
        "MESSAGE_QUEUE_CHANNEL": f"sb-catchup-{uuid.uuid4().hex[:8]}",
        "MESSAGE_QUEUE_RETRY_MAX": "1",
        **(extra or {}),
    }
    one = server_factory(
        {**common, "MESSAGE_QUEUE_URL": redis_url}, database_url=postgres_url
    )
    two = server_factory(
        {**common, "MESSAGE_QUEUE_URL": f"redis://127.0.0.1:{proxy.port}/0"},
        database_url=postgres_url,
        seed=False,
    )
    return one, two, proxy


def test_process_cut_off_from_redis_delivers_what_it_missed_in_order(
    server_factory: ServerFactory, postgres_url: str, redis_url: str
) -> None:
    one, two, proxy = _cut_off_pair(server_factory, postgres_url, redis_url)
    world = build_world(one.url, one.seed)
    tenant = world.tenant_a["id"]
    client = SocketRecorder().connect(two.url, world.user_a.access_token)
    try:
        first = _publish(one.url, world.key_a, tenant, "before")
        client.wait_for("alert", lambda e: e["id"] == first)

        proxy.cut()  # process two loses Redis; its clients stay connected to it
        _wait_ready(two.url, 503)
        time.sleep(0.5)  # let the proxy drop the established subscription too
        missed = [_publish(one.url, world.key_a, tenant, f"gap-{n}") for n in range(5)]
        time.sleep(0.5)
        assert [e["id"] for e in client.of("alert")] == [first]

        proxy.restore()
        _wait_ready(two.url, 200)
        client.wait_for("alert", lambda e: e["id"] == missed[-1], timeout=15)
        after = _publish(one.url, world.key_a, tenant, "after")
        client.wait_for("alert", lambda e: e["id"] == after)
        assert [e["id"] for e in client.of("alert")] == [first, *missed, after]
        assert client.client.connected and len(client.of("welcome")) == 1
    finally:
        client.disconnect()
        proxy.close()


def test_a_gap_too_large_to_push_makes_clients_resume_and_refetch(
    server_factory: ServerFactory, postgres_url: str, redis_url: str
) -> None:
    one, two, proxy = _cut_off_pair(
        server_factory, postgres_url, redis_url, {"REPLAY_MAX_EVENTS": "3"}
    )
    world = build_world(one.url, one.seed)
    tenant = world.tenant_a["id"]
    client = ResumingClient(world.user_a.access_token)
    client.connect(two.url, None, ["/engagement"], auth=client.auth)
    try:
        first = _publish(one.url, world.key_a, tenant, "before")
        client.wait_for_ids([first])
        proxy.cut()
        _wait_ready(two.url, 503)
        time.sleep(0.5)
        for n in range(5):  # more than REPLAY_MAX_EVENTS
            _publish(one.url, world.key_a, tenant, f"gap-{n}")
        proxy.restore()
        # The process closes its clients' transports rather than push a partial
        # catch-up. socket.io-client reconnects by itself on a transport close;
        # python-socketio treats a server close as final, so this client
        # reconnects explicitly, with its last id, as an integration would.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            client.client.connected or client.client.eio.state != "disconnected"
        ):
            time.sleep(0.1)  # wait until the close has fully gone through
        assert not client.client.connected
        client.client.connect(
            two.url,
            namespaces=["/engagement"],
            auth=client.auth,
            transports=["websocket"],
        )
        complete = client.wait_for("replay_complete", timeout=30)[0]
        assert complete["recovered"] is False  # too large: refetch over REST
    finally:
        client.disconnect()
        proxy.close()
