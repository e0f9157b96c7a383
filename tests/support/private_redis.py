"""A throwaway redis-server of a test's own, to stop and restart at will."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import require_service
from tests.support.server import LiveServer, free_port

ALERT = {"severity": "low", "title": "outage", "message": "test"}


class PrivateRedis:
    """A throwaway redis-server that keeps nothing on disk."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its redis:// URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers."""
        import redis

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with redis.Redis.from_url(self.url) as client:
                try:
                    client.ping()
                    return
                except redis.RedisError:
                    time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        """Stop it (its data is gone: it keeps nothing)."""
        if self.process and self.process.poll() is None:
            self.thaw()
            self.process.terminate()
            self.process.wait(10)

    def freeze(self) -> None:
        """SIGSTOP: connections stay open, nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: it answers again, with everything sent meanwhile."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private Redis on a free port, stopped after the test."""
    require_service("redis-server", shutil.which("redis-server"))
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def publish(server: LiveServer, key: str, tenant_id: int, timeout: float = 30) -> Any:
    """POST /api/publish an alert to a tenant room."""
    return requests.post(
        server.url + "/api/publish",
        headers={"X-API-Key": key},
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": ALERT,
            "target": {"tenant": tenant_id},
        },
        timeout=timeout,
    )
