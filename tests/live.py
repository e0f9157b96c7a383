"""Live-test harness: the real server as a subprocess, and real clients.

``ServerProcess`` runs ``python wsgi.py`` (eventlet by default) on a free port with
its own database; ``SocketRecorder`` is a ``socketio.Client`` that records every
event it receives; ``World`` builds a fresh MSP with two client tenants per test.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import socketio
import websocket

from tests.support.engine_client import OrderedClient

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NAMESPACES = ("/engagement", "/events", "/system", "/dashboard")


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


class Api:
    """A tiny ``requests`` wrapper bound to one server and one credential."""

    def __init__(self, url: str, token: str | None = None, api_key: str | None = None):
        self.url = url
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if api_key:
            self.headers["X-API-Key"] = api_key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request with this credential."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(
            method, self.url + path, headers=headers, timeout=30, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def login(url: str, email: str, password: str) -> dict[str, Any]:
    """POST /api/auth/login and return the JSON body."""
    response = requests.post(
        url + "/api/auth/login", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


class SocketRecorder:
    """A real ``socketio.Client`` that records every event on every namespace."""

    def __init__(self, reconnection: bool = False, **client_kwargs: Any) -> None:
        self.client = OrderedClient(reconnection=reconnection, **client_kwargs)
        self.events: list[tuple[str, str, Any]] = []  # (namespace, event, data)
        # Indexed by event name so waits stay cheap while thousands arrive.
        self.by_event: dict[str, list[tuple[str, Any]]] = {}
        self._cond = threading.Condition()
        self.connect_errors: list[Any] = []
        for namespace in NAMESPACES:
            self._attach(namespace)

    def _attach(self, namespace: str) -> None:
        @self.client.on("*", namespace=namespace)
        def _any(event: str, *args: Any) -> None:
            self._record(namespace, event, args[0] if args else None)

        @self.client.on("connect_error", namespace=namespace)
        def _error(data: Any) -> None:
            with self._cond:
                self.connect_errors.append(data)
                self._cond.notify_all()

    def _record(self, namespace: str, event: str, data: Any) -> None:
        with self._cond:
            self.events.append((namespace, event, data))
            self.by_event.setdefault(event, []).append((namespace, data))
            self._cond.notify_all()

    def connect(
        self,
        url: str,
        token: str | None,
        namespaces: tuple[str, ...] | list[str] = ("/engagement",),
        auth: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        transports: list[str] | None = None,
        wait_timeout: float = 10,
    ) -> SocketRecorder:
        """Connect with ``{"token": token, **auth}``."""
        if callable(auth):
            payload: Any = auth
        else:
            payload = {"token": token, **(auth or {})} if token is not None else auth
        self.client.connect(
            url,
            namespaces=list(namespaces),
            auth=payload,
            transports=transports or ["websocket"],
            wait_timeout=wait_timeout,
        )
        return self

    def of(self, event: str, namespace: str | None = None) -> list[Any]:
        """Payloads received for ``event`` (optionally on one namespace)."""
        with self._cond:
            return [
                data
                for ns, data in self.by_event.get(event, [])
                if namespace is None or ns == namespace
            ]

    def wait_for(
        self,
        event: str,
        predicate: Callable[[Any], bool] = lambda _data: True,
        namespace: str | None = None,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[Any]:
        """Block until ``count`` matching events arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matches = [
                    data
                    for ns, data in self.by_event.get(event, [])
                    if (namespace is None or ns == namespace) and predicate(data)
                ]
                if len(matches) >= count:
                    return matches
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting for {count} x {event!r}; got "
                        f"{[(ns, name) for ns, name, _ in self.events][-20:]}"
                    )
                self._cond.wait(remaining)

    def call(
        self,
        event: str,
        data: Any = None,
        namespace: str = "/engagement",
        timeout: float = 10,
    ) -> Any:
        """Emit and wait for the acknowledgement."""
        return self.client.call(event, data, namespace=namespace, timeout=timeout)

    def disconnect(self) -> None:
        """Disconnect if connected."""
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - already gone is fine
            pass


def connect_refusal(url: str, auth: Any, namespace: str = "/engagement") -> Any:
    """Try to connect; return the ``connect_error`` payload (fail if it connects)."""
    recorder = SocketRecorder()
    try:
        recorder.client.connect(
            url,
            namespaces=[namespace],
            auth=auth,
            transports=["websocket"],
            wait_timeout=5,
        )
    except socketio.exceptions.ConnectionError:
        pass
    else:
        recorder.disconnect()
        raise AssertionError("the connection was accepted")
    finally:
        recorder.disconnect()
    assert recorder.connect_errors, "no connect_error received"
    return recorder.connect_errors[0]


@dataclass
class Member:
    """A user created for a test, with fresh tokens."""

    id: int
    email: str
    password: str
    role: str
    tenant_id: int
    access_token: str
    refresh_token: str


@dataclass
class World:
    """A fresh MSP with two client tenants, users and API keys (per test)."""

    url: str
    admin: Member
    msp_tenant: dict[str, Any]
    tenant_a: dict[str, Any]
    tenant_b: dict[str, Any]
    msp_user: Member
    user_a: Member
    user_b: Member
    key_msp: str
    key_a: str
    key_b: str

    def api(self, who: Member | str | None = None) -> Api:
        """REST client for a member (JWT) or an API key (str)."""
        if isinstance(who, Member):
            return Api(self.url, token=who.access_token)
        if isinstance(who, str):
            return Api(self.url, api_key=who)
        return Api(self.url)

    def add_user(self, tenant_id: int, role: str = "client") -> Member:
        """Create one more user in a tenant (as the admin) and log in."""
        return make_member(self.url, self.admin, tenant_id, role)


def make_member(url: str, creator: Member, tenant_id: int, role: str) -> Member:
    """Create a user through the REST API and log in as them."""
    email = f"{role}-{uuid.uuid4().hex[:10]}@test.switchboard"
    password = "correct-horse-battery"
    response = Api(url, token=creator.access_token).post(
        f"/api/tenants/{tenant_id}/users",
        json={
            "email": email,
            "password": password,
            "name": email.split("@")[0],
            "role": role,
        },
    )
    assert response.status_code == 201, response.text
    tokens = login(url, email, password)
    return Member(
        tokens["user"]["id"],
        email,
        password,
        role,
        tenant_id,
        tokens["access_token"],
        tokens["refresh_token"],
    )


def build_world(url: str, seed: dict[str, Any]) -> World:
    """Create a fresh MSP tree through the REST API, as the seeded admin."""
    admin_seed = next(u for u in seed["users"] if u["role"] == "admin")
    tokens = login(url, admin_seed["email"], admin_seed["password"])
    admin = Member(
        admin_seed["id"],
        admin_seed["email"],
        admin_seed["password"],
        "admin",
        admin_seed["tenant_id"],
        tokens["access_token"],
        tokens["refresh_token"],
    )
    api = Api(url, token=admin.access_token)
    suffix = uuid.uuid4().hex[:8]

    def tenant(name: str, kind: str, parent: int | None = None) -> dict[str, Any]:
        response = api.post(
            "/api/tenants",
            json={"name": f"{name}-{suffix}", "kind": kind, "parent_id": parent},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def key(tenant_id: int) -> str:
        response = api.post(f"/api/tenants/{tenant_id}/api-keys", json={"name": "test"})
        assert response.status_code == 201, response.text
        return str(response.json()["key"])

    msp = tenant("msp", "msp")
    tenant_a = tenant("client-a", "client", msp["id"])
    tenant_b = tenant("client-b", "client", msp["id"])
    return World(
        url=url,
        admin=admin,
        msp_tenant=msp,
        tenant_a=tenant_a,
        tenant_b=tenant_b,
        msp_user=make_member(url, admin, msp["id"], "msp"),
        user_a=make_member(url, admin, tenant_a["id"], "client"),
        user_b=make_member(url, admin, tenant_b["id"], "client"),
        key_msp=key(msp["id"]),
        key_a=key(tenant_a["id"]),
        key_b=key(tenant_b["id"]),
    )


class ResumingClient(SocketRecorder):
    """A reconnecting client that resumes from the last event id it has seen.

    This is the Python twin of the socket.io-client snippet in docs/replay.md:
    ``auth`` is a callable, so every reconnection attempt sends the latest id.
    """

    def __init__(self, token: str, last_event_id: int | None = None, **kwargs: Any):
        kwargs.setdefault("reconnection_delay", 0.5)
        kwargs.setdefault("reconnection_delay_max", 1)
        super().__init__(reconnection=True, **kwargs)
        self.token = token
        self.last_event_id = last_event_id
        self.ids: list[int] = []
        self.client.on("*", handler=self._track, namespace="/engagement")

    def auth(self) -> dict[str, Any]:
        """Sent on every connection attempt."""
        payload: dict[str, Any] = {"token": self.token}
        if self.last_event_id is not None:
            payload["last_event_id"] = self.last_event_id
        return payload

    def _track(self, event: str, *args: Any) -> None:
        data = args[0] if args else None
        with self._cond:
            if isinstance(data, dict) and isinstance(data.get("id"), int):
                self.ids.append(data["id"])
                self.last_event_id = max(self.last_event_id or 0, data["id"])
        self._record("/engagement", event, data)

    def wait_for_ids(self, expected: list[int], timeout: float = 30) -> None:
        """Block until every id in ``expected`` was received."""
        wanted = set(expected)
        highest = max(wanted, default=0)
        deadline = time.monotonic() + timeout
        with self._cond:
            # Ids arrive in order: wait for the highest, then check them all once.
            while (self.last_event_id or 0) < highest or not wanted.issubset(self.ids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = sorted(wanted - set(self.ids))
                    raise AssertionError(f"missing {len(missing)} ids: {missing[:20]}")
                self._cond.wait(remaining)


def publish_alerts(
    url: str, api_key: str, tenant_id: int, count: int, prefix: str = "alert"
) -> list[int]:
    """Publish ``count`` /engagement alerts (in batches) and return their ids."""
    ids: list[int] = []
    api = Api(url, api_key=api_key)
    for start in range(0, count, 500):
        batch = [
            {
                "namespace": "/engagement",
                "event": "alert",
                "data": {"title": f"{prefix}-{n}", "severity": "info"},
                "target": {"tenant": tenant_id},
            }
            for n in range(start, min(count, start + 500))
        ]
        response = api.post("/api/publish/batch", json=batch)
        assert response.status_code == 202, response.text
        ids.extend(result["id"] for result in response.json()["results"])
    return ids


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


SocketFactory = Callable[..., SocketRecorder]
ServerFactory = Callable[..., LiveServer]


def resume(
    sockets: SocketFactory,
    url: str,
    token: str,
    last_event_id: int,
    namespace: str = "/engagement",
) -> tuple[SocketRecorder, dict[str, Any]]:
    """Connect with ``last_event_id``; return the client and its replay_complete."""
    client = sockets().connect(
        url, token, [namespace], auth={"last_event_id": last_event_id}
    )
    return client, dict(client.wait_for("replay_complete", namespace=namespace)[0])


def open_websocket(
    url: str, timeout: float = 10, receive_buffer: int | None = None
) -> websocket.WebSocket:
    """A raw engine.io websocket (no Socket.IO client), past the OPEN packet.

    ``receive_buffer`` shrinks the client's socket buffer before connecting, so a
    client that stops reading backs up the server quickly.
    """
    options = (
        [(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)]
        if receive_buffer
        else []
    )
    ws = websocket.create_connection(
        url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        sockopt=options,
        timeout=timeout,
    )
    assert ws.recv().startswith("0")  # engine.io OPEN
    return ws


def join_engagement(
    ws: websocket.WebSocket, token: str, wait_for_welcome: bool = True
) -> websocket.WebSocket:
    """Connect /engagement on a raw websocket; by default wait for ``welcome``."""
    ws.send("40/engagement," + json.dumps({"token": token}))
    while wait_for_welcome:
        frame = ws.recv()
        if frame.startswith("42/engagement,") and '"welcome"' in frame:
            break
    return ws
