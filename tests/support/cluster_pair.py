"""Two server processes on one Redis and one PostgreSQL, as pytest fixtures.

Import ``pair`` (module-scoped: two processes), ``cluster`` (the pair plus a
fresh world per test) and ``sockets_on`` into a test module to use them;
``wait_until`` polls until a cluster-wide effect is visible.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, require_service
from tests.support.server import (
    ServerProcess,
    base_env,
    create_database,
    drop_database,
    prepare_database,
)
from tests.support.sockets import SocketRecorder
from tests.support.world import World, build_world


@dataclass
class Cluster:
    """Two processes on one database and one queue channel, and a fresh world."""

    one: LiveServer
    two: LiveServer
    world: World
    env: dict[str, str]


def cluster_env(redis_url: str) -> dict[str, str]:
    """Queue settings with a channel of its own, and a short heartbeat expiry."""
    return {
        "MESSAGE_QUEUE_URL": redis_url,
        "MESSAGE_QUEUE_CHANNEL": f"sb-test-{uuid.uuid4().hex[:10]}",
        "CLUSTER_HEARTBEAT_TTL": "2",
        "MAX_CONNECTIONS_PER_USER": "2",
    }


@contextmanager
def two_processes(
    tmp_path_factory: pytest.TempPathFactory,
    name: str = "cluster",
    extra: dict[str, str] | None = None,
) -> Iterator[list[LiveServer]]:
    """Two processes on a fresh PostgreSQL database and a Redis channel of their own.

    ``extra`` settings go over ``cluster_env``'s; both processes boot at once.
    """
    postgres = require_service("PostgreSQL", os.environ.get("TEST_POSTGRES_URL"))
    redis_url = require_service("Redis", os.environ.get("TEST_REDIS_URL"))
    database_url = create_database(postgres)
    logs: Path = tmp_path_factory.mktemp(name)
    settings = {**cluster_env(redis_url), **(extra or {}), "TEST_LOG_DIR": str(logs)}
    env = base_env(database_url, settings)
    processes: list[ServerProcess] = []
    try:
        seed = prepare_database(env)
        processes = [ServerProcess(env), ServerProcess(env)]
        with ThreadPoolExecutor(2) as starting:
            list(starting.map(lambda process: process.start(), processes))
        yield [LiveServer(process, seed, env) for process in processes]
    finally:
        for process in processes:
            process.stop()
        drop_database(database_url)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LiveServer]]:
    """Two processes sharing a fresh PostgreSQL database and a Redis channel.

    Module-scoped (starting servers dominates the run time); each test isolates
    itself with a fresh tenant tree.
    """
    with two_processes(tmp_path_factory) as servers:
        yield servers


@pytest.fixture
def cluster(pair: list[LiveServer]) -> Cluster:
    """The module's two processes and a fresh MSP tree for this test."""
    one, two = pair
    return Cluster(one, two, build_world(one.url, one.seed), one.env)


@pytest.fixture
def sockets_on() -> Iterator[Callable[[str, str], SocketRecorder]]:
    """Connect a recorder to ``/engagement`` on one process; all closed after."""
    made: list[SocketRecorder] = []

    def connect(url: str, token: str) -> SocketRecorder:
        recorder = SocketRecorder().connect(url, token, ["/engagement"])
        recorder.wait_for("welcome")
        made.append(recorder)
        return recorder

    yield connect
    for recorder in made:
        recorder.disconnect()


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)
