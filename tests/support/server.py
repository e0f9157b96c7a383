"""The real server as a subprocess: environment, database, start and stop.

``ServerProcess`` runs ``python wsgi.py`` (eventlet by default) on a free port with
its own database; ``LiveServer`` is one plus the seed data it was prepared with.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]


PYTHON = sys.executable


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a server or CLI subprocess."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in (
            "DATABASE_URL",
            "MESSAGE_QUEUE_URL",
            "APP_CONFIG",
            "SOCKETIO_ASYNC_MODE",
        )
    }
    env.update(
        {
            "APP_CONFIG": "development",
            "DATABASE_URL": database_url,
            "FLASK_APP": "webapp",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "JWT_SECRET_KEY": "test-jwt-secret-key-that-is-long-enough-0123456789",
            "MAX_CONNECTIONS_PER_USER": "50",
            "CLIENT_EVENTS_PER_SECOND": "200",
            "CLIENT_EVENTS_BURST": "400",
            "PASSWORD_HASH_PROFILE": "fast",
        }
    )
    env.update(extra or {})
    return env


def run_flask(env: dict[str, str], *args: str, check: bool = True) -> str:
    """Run a ``flask`` CLI command in a subprocess; return its stdout."""
    result = subprocess.run(
        [PYTHON, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def prepare_database(env: dict[str, str]) -> dict[str, Any]:
    """Migrate an empty database and seed the demo data; return the seed JSON."""
    run_flask(env, "db", "upgrade")
    return dict(json.loads(run_flask(env, "seed-demo", "--json")))


def create_database(server_url: str) -> str:
    """Create a uniquely named PostgreSQL database next to ``server_url``'s."""
    import psycopg2

    name = f"sb_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(database_url: str) -> None:
    """Drop a database made by ``create_database`` (closing its connections)."""
    import psycopg2

    server_url, name = database_url.rsplit("/", 1)
    conn = psycopg2.connect(server_url + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@dataclass
class ServerProcess:
    """One real server process (``python wsgi.py``, or ``command``)."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    command: list[str] | None = None
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log_file: Any = None

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start the process and wait for /health."""
        env = dict(self.env, PORT=str(self.port), HOST="127.0.0.1")
        self.log_path = (
            Path(env.get("TEST_LOG_DIR", "/tmp")) / f"switchboard-{self.port}.log"
        )
        self._close_log()
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed on stop
        command = [c.replace("{port}", str(self.port)) for c in self.command or []]
        self.process = subprocess.Popen(
            command or [PYTHON, "wsgi.py"],
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def stop(self) -> None:
        """Terminate gracefully (SIGTERM, then SIGKILL)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no disconnect packets."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._close_log()

    def log(self) -> str:
        """The server's output so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@dataclass
class LiveServer:
    """A running server plus the seed data its database was prepared with."""

    process: ServerProcess
    seed: dict[str, Any]
    env: dict[str, str]

    @property
    def url(self) -> str:
        """Base URL."""
        return self.process.url


ServerFactory = Callable[..., LiveServer]


# `gunicorn -k gevent -w 1 wsgi:app`, the maintained gevent worker (a server command).
GUNICORN = [
    PYTHON,
    "-m",
    "gunicorn",
    "-k",
    "gevent",
    "-w",
    "1",
    "-b",
    "127.0.0.1:{port}",
    "wsgi:app",
]
