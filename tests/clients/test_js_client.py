"""The official JavaScript client (socket.io-client on Node) against the live server.

docs/architecture.md §10: a Node script with the official ``socket.io-client``
connects, authenticates, joins, receives and reconnects, driven from pytest.
``tests/clients/js/client.mjs`` uses the very lines ``docs/client.md`` shows. Without
Node or ``node_modules/socket.io-client`` (``make node``) these tests are
skipped, or fail when ``REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from tests.conftest import require_service
from tests.support.netfault import TcpProxy
from tests.support.server import ROOT, ServerFactory
from tests.support.world import World, build_world, publish_alerts

pytestmark = pytest.mark.node

CLIENT = ROOT / "tests" / "clients" / "js" / "client.mjs"
DOC = ROOT / "docs" / "client.md"
SNIPPET_START = "// --- docs/client.md shows these lines"
SNIPPET_END = "// --- end of the documented lines"


class NodeClient:
    """One ``node tests/clients/js/client.mjs`` process: its JSON lines."""

    def __init__(self, node: str, **config: Any) -> None:
        self.config = config
        self.process = subprocess.Popen(
            [node, str(CLIENT), json.dumps(config)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self._cond = threading.Condition()
        self._tags = 0
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._cond:
                self.lines.append(json.loads(line))
                self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def wait_for(
        self,
        kind: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda _line: True,
        timeout: float = 10,
        count: int = 1,
    ) -> list[dict[str, Any]]:
        """Block until ``count`` lines of ``kind`` match; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    line
                    for line in self.lines
                    if line["kind"] == kind and predicate(line)
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting for {count} x {kind!r}; last lines: "
                        f"{self.lines[-10:]}; stderr: {''.join(self.stderr)[-2000:]}"
                    )
                self._cond.wait(remaining)

    def wait_for_event(self, event: str, timeout: float = 10, count: int = 1) -> Any:
        """The payload of the ``count``-th server event called ``event``."""
        lines = self.wait_for(
            "event", lambda line: line["event"] == event, timeout, count
        )
        return lines[count - 1]["data"]

    def events(self, event: str) -> list[Any]:
        """Payloads of every server event called ``event`` so far."""
        with self._cond:
            return [
                line["data"]
                for line in self.lines
                if line["kind"] == "event" and line["event"] == event
            ]

    def ids(self) -> list[int]:
        """Envelope ids received, in arrival order (duplicates kept)."""
        with self._cond:
            return [
                line["data"]["id"]
                for line in self.lines
                if line["kind"] == "event"
                and isinstance(line["data"], dict)
                and isinstance(line["data"].get("id"), int)
            ]

    def wait_for_ids(self, expected: list[int], timeout: float = 20) -> None:
        """Block until every id in ``expected`` arrived."""
        deadline = time.monotonic() + timeout
        while not set(expected) <= set(self.ids()):
            if time.monotonic() > deadline:
                missing = sorted(set(expected) - set(self.ids()))
                raise AssertionError(f"missing {len(missing)} ids: {missing[:20]}")
            time.sleep(0.05)

    def send(self, command: dict[str, Any]) -> None:
        """Write one command line to the client's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def call(self, event: str, data: Any) -> Any:
        """``emitWithAck`` in the client; return the server's ack."""
        self._tags += 1
        tag = f"t{self._tags}"
        self.send({"cmd": "emit", "event": event, "data": data, "tag": tag})
        line = self.wait_for("ack", lambda line: line["tag"] == tag)[0]
        return line["response"]

    def close(self) -> None:
        """Ask the client to exit; kill it if it does not."""
        if self.process.poll() is None:
            try:
                self.send({"cmd": "exit"})
                self.process.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


NodeFactory = Callable[..., NodeClient]


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` binary, with socket.io-client installed next to the tests."""
    binary = shutil.which("node")
    require_service("Node.js (node on PATH)", binary)
    installed = (ROOT / "node_modules" / "socket.io-client" / "package.json").exists()
    require_service(
        "socket.io-client in node_modules (make node)", "yes" if installed else None
    )
    assert binary is not None
    return binary


@pytest.fixture
def node_client(node: str) -> Iterator[NodeFactory]:
    """Start Node clients: ``node_client(url, token, **config)``; all closed after."""
    started: list[NodeClient] = []

    def start(url: str, token: str | None, **config: Any) -> NodeClient:
        config.setdefault("namespace", "/engagement")
        config.setdefault("timeout_ms", 55_000)
        client = NodeClient(node, url=url, token=token, **config)
        started.append(client)
        return client

    yield start
    for client in started:
        client.close()


def _latest_id(world: World) -> int:
    events = world.api(world.key_a).get("/api/events", params={"limit": 1000}).json()
    return max([e["id"] for e in events["events"]], default=0)


# ---------------------------------------------------------------- the docs


def test_the_docs_show_the_lines_the_node_client_runs() -> None:
    source = CLIENT.read_text()
    start = source.index(SNIPPET_START)
    start = source.index("\n", start) + 1
    snippet = source[start : source.index(SNIPPET_END)]
    assert "io(BASE_URL + namespace" in snippet
    assert "auth: (cb) => cb({ token, last_event_id: lastId })" in snippet
    assert snippet in DOC.read_text()


# ------------------------------------------------------------------ connect


def test_connects_with_an_access_token_and_is_welcomed(
    world: World, node_client: NodeFactory
) -> None:
    client = node_client(world.url, world.user_a.access_token)
    client.wait_for("connect")
    welcome = client.wait_for_event("welcome")
    assert welcome["namespace"] == "/engagement"
    assert welcome["sid"]
    assert welcome["user"]["id"] == world.user_a.id
    assert welcome["user"]["tenant_id"] == world.tenant_a["id"]
    assert welcome["user"]["role"] == "client"
    assert welcome["heartbeat"]["interval"] > 0
    assert welcome["heartbeat"]["timeout"] > 0
    assert datetime.fromisoformat(welcome["server_time"]).utcoffset() is not None
    assert client.events("replay_complete") == []  # no last_event_id, no replay


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, "missing_token"),
        ("not-a-jwt", "invalid_token"),
        ("refresh", "wrong_token_type"),
    ],
)
def test_refused_connection_reports_the_code_in_connect_error(
    world: World, node_client: NodeFactory, token: str | None, code: str
) -> None:
    if token == "refresh":
        token = world.user_a.refresh_token
    client = node_client(world.url, token)
    error = client.wait_for("connect_error")[0]
    assert error["message"] == code
    assert isinstance(error["data"]["message"], str) and error["data"]["message"]
    assert error["active"] is False  # a refusal is final: no automatic retry
    time.sleep(0.3)
    assert [line for line in client.lines if line["kind"] == "connect"] == []
    assert client.events("welcome") == []


# ----------------------------------------------------------------- receive


def test_receives_a_published_alert_envelope_and_never_another_tenants(
    world: World, node_client: NodeFactory
) -> None:
    client = node_client(world.url, world.user_a.access_token)
    client.wait_for_event("welcome")
    theirs = publish_alerts(world.url, world.key_b, world.tenant_b["id"], 3, "b")
    [mine] = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 1, "a")
    envelope = client.wait_for_event("alert")
    timestamp = envelope.pop("timestamp")
    data = envelope.pop("data")
    assert envelope == {
        "id": mine,
        "type": "alert",
        "namespace": "/engagement",
        "tenant_id": world.tenant_a["id"],
        "room": f"tenant:{world.tenant_a['id']}",
    }
    assert data["title"] == "a-0" and data["severity"] == "info"
    assert datetime.fromisoformat(timestamp).utcoffset().total_seconds() == 0
    time.sleep(0.3)
    assert not set(theirs) & set(client.ids())
    assert client.ids() == [mine]


# -------------------------------------------------------------- sessions


def test_joins_a_session_sends_a_message_and_receives_it(
    world: World, node_client: NodeFactory
) -> None:
    created = world.api(world.msp_user).post(
        "/api/sessions", json={"title": "war room", "tenant_id": world.tenant_a["id"]}
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    client = node_client(world.url, world.user_a.access_token)
    client.wait_for_event("welcome")

    joined = client.call("join_session", {"session_id": session_id})
    assert joined["ok"] is True
    assert joined["session_id"] == session_id
    assert joined["count"] == 1
    assert [p["id"] for p in joined["participants"]] == [world.user_a.id]
    assert joined["session"]["id"] == session_id

    sent = client.call("send_message", {"session_id": session_id, "text": "hello"})
    assert sent["ok"] is True and isinstance(sent["id"], int)
    message = client.wait_for_event("session_message")
    assert message["id"] == sent["id"]
    assert message["room"] == f"session:{session_id}"
    assert message["tenant_id"] == world.tenant_a["id"]
    assert message["data"]["text"] == "hello"
    assert message["data"]["session_id"] == session_id
    assert message["data"]["user"]["id"] == world.user_a.id


def test_another_tenants_session_is_refused_in_the_ack(
    world: World, node_client: NodeFactory
) -> None:
    created = world.api(world.msp_user).post(
        "/api/sessions", json={"title": "a only", "tenant_id": world.tenant_a["id"]}
    )
    session_id = created.json()["id"]
    client = node_client(world.url, world.user_b.access_token)
    client.wait_for_event("welcome")
    refused = client.call("join_session", {"session_id": session_id})
    assert refused["ok"] is False
    assert refused["error"]["code"] == "not_found"
    bad = client.call("send_message", {"session_id": session_id})
    assert bad["ok"] is False
    assert bad["error"]["code"] == "invalid"


# --------------------------------------------------------- reconnect, replay


def test_reconnects_by_itself_and_replays_what_it_missed_in_order(
    world: World, node_client: NodeFactory
) -> None:
    proxy = TcpProxy(int(world.url.rsplit(":", 1)[1]))
    try:
        client = node_client(
            proxy.url,
            world.user_a.access_token,
            reconnection_delay_ms=200,
            reconnection_delay_max_ms=500,
        )
        client.wait_for_event("welcome")
        before = publish_alerts(
            world.url, world.key_a, world.tenant_a["id"], 3, "before"
        )
        client.wait_for_ids(before)

        proxy.cut()
        client.wait_for("disconnect")
        missed = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 50, "gap")
        time.sleep(1)
        proxy.restore()

        complete = client.wait_for_event("replay_complete", timeout=20)
        assert complete == {
            "count": 50,
            "last_event_id": missed[-1],
            "recovered": True,
        }
        assert client.wait_for("reconnect")  # socket.io-client's own reconnection
        live = publish_alerts(world.url, world.key_a, world.tenant_a["id"], 5, "after")
        client.wait_for_ids(live)
        assert client.ids() == before + missed + live  # in order, no duplicates
        replayed = [e["id"] for e in client.events("alert") if e.get("replayed")]
        assert replayed == missed
        assert len(client.events("welcome")) == 2
    finally:
        proxy.close()


def test_a_killed_and_restarted_server_loses_nothing_committed(
    server_factory: ServerFactory, node_client: NodeFactory
) -> None:
    live = server_factory()
    world = build_world(live.url, live.seed)
    start = _latest_id(world)
    client = node_client(
        live.url,
        world.user_a.access_token,
        reconnection_delay_ms=200,
        reconnection_delay_max_ms=500,
    )
    client.wait_for_event("welcome")
    before = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 3, "before")
    client.wait_for_ids(before)

    stop = threading.Event()

    def second_publisher() -> None:
        while not stop.is_set():
            try:
                requests.post(
                    live.url + "/api/publish",
                    headers={"X-API-Key": world.key_a},
                    json={
                        "namespace": "/engagement",
                        "event": "alert",
                        "data": {"title": "churn"},
                        "target": {"tenant": world.tenant_a["id"]},
                    },
                    timeout=2,
                )
            except requests.RequestException:
                time.sleep(0.05)  # the server is down; keep trying
            time.sleep(0.02)

    publisher = threading.Thread(target=second_publisher)
    publisher.start()
    try:
        time.sleep(0.5)
        live.process.kill()  # SIGKILL: no disconnect packets, no clean shutdown
        client.wait_for("disconnect")
        live.process.start()
        client.wait_for("reconnect", timeout=20)
        time.sleep(0.5)
    finally:
        stop.set()
        publisher.join()
    after = publish_alerts(live.url, world.key_a, world.tenant_a["id"], 3, "after")

    history = world.api(world.key_a).get(
        "/api/events",
        params={"since_id": start, "namespace": "/engagement", "limit": 1000},
    )
    committed = [e["id"] for e in history.json()["events"]]
    assert committed[:3] == before and committed[-3:] == after
    client.wait_for_ids(committed)
    assert client.ids() == committed  # every committed event once, in id order
    complete = client.wait_for_event("replay_complete")
    assert complete["recovered"] is True
