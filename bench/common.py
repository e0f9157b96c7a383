"""Shared helpers: a real server per scenario, Node scripts, tables and results.

Every benchmark starts ``python wsgi.py`` (eventlet) as a subprocess on
127.0.0.1 through ``tests.support``, on a fresh SQLite file or a fresh PostgreSQL
database, and drives it with real clients.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.server import (
    PYTHON,
    ROOT,
    ServerProcess,
    base_env,
    create_database,
    drop_database,
    free_port,
    prepare_database,
)
from tests.support.world import World, build_world

BENCH_DIR = Path(__file__).resolve().parent
JS_DIR = BENCH_DIR / "js"
RESULTS_DIR = BENCH_DIR / "results"
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# A/B a server change: run ``<dir>/wsgi.py`` (a copy of the tree with the change)
# instead of this checkout's; migrations and seeding still come from here.
SERVER_DIR = os.environ.get("BENCH_SERVER_DIR")
DATABASES = ("sqlite", "postgresql")


def postgres_available() -> bool:
    """True when ``POSTGRES_URL`` accepts a connection."""
    try:
        import psycopg2

        psycopg2.connect(POSTGRES_URL, connect_timeout=2).close()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False
    return True


def redis_available() -> bool:
    """True when ``REDIS_URL`` answers PING."""
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except Exception:  # noqa: BLE001
        return False


def node_available() -> bool:
    """True when ``node`` and socket.io-client are installed."""
    return (
        shutil.which("node") is not None
        and (ROOT / "node_modules" / "socket.io-client").is_dir()
    )


def databases(requested: Sequence[str]) -> list[str]:
    """The requested databases that are reachable (PostgreSQL is optional)."""
    chosen = []
    for name in requested:
        if name == "postgresql" and not postgres_available():
            print(f"  (PostgreSQL at {POSTGRES_URL} unavailable: skipped)")
            continue
        chosen.append(name)
    return chosen


@dataclass
class BenchServer:
    """Running server process(es) on one database, a fresh tenant tree, the env."""

    process: ServerProcess
    world: World
    env: dict[str, str]
    database: str
    others: list[ServerProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL (of the first process)."""
        return self.process.url

    @property
    def pid(self) -> int:
        """The (first) server's process id."""
        assert self.process.process is not None
        return self.process.process.pid

    @property
    def urls(self) -> list[str]:
        """Base URL of every process."""
        return [p.url for p in (self.process, *self.others)]

    @property
    def pids(self) -> list[int]:
        """Process id of every process."""
        return [p.process.pid for p in (self.process, *self.others) if p.process]


@contextmanager
def running_server(
    database: str, extra_env: dict[str, str] | None = None, processes: int = 1
) -> Iterator[BenchServer]:
    """Start ``processes`` servers on one fresh database (``sqlite``/``postgresql``).

    More than one process only makes sense with PostgreSQL and a
    ``MESSAGE_QUEUE_URL`` in ``extra_env`` (a cluster).
    """
    tmpdir = tempfile.mkdtemp(prefix="sb-bench-")
    if database == "sqlite":
        url = f"sqlite:///{tmpdir}/bench.db"
    else:
        url = create_database(POSTGRES_URL)
    env = base_env(
        url,
        {
            "TEST_LOG_DIR": tmpdir,
            "MESSAGE_QUEUE_CHANNEL": f"sb-bench-{uuid.uuid4().hex[:8]}",
            **(extra_env or {}),
        },
    )
    servers: list[ServerProcess] = []
    try:
        seed = prepare_database(env)
        command = [PYTHON, f"{SERVER_DIR}/wsgi.py"] if SERVER_DIR else None
        for _ in range(processes):
            servers.append(ServerProcess(env, command=command).start())
        world = build_world(servers[0].url, seed)
        yield BenchServer(servers[0], world, env, database, servers[1:])
    finally:
        for server in servers:
            server.stop()
        if database != "sqlite":
            drop_database(url)
        shutil.rmtree(tmpdir, ignore_errors=True)


@dataclass
class NodeReference:
    """The Node socket.io reference server (bench/js/ref_server.mjs)."""

    url: str
    pid: int


@contextmanager
def node_reference(namespace: str = "/engagement") -> Iterator[NodeReference]:
    """Start bench/js/ref_server.mjs on a free port; stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        node_command("ref_server.mjs", {"port": port, "namespace": namespace}),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError("the Node reference server exited at start")
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield NodeReference(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def raise_open_files_limit() -> int:
    """Raise RLIMIT_NOFILE to its hard limit (servers and clients inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def load_average() -> str:
    """The 1/5/15-minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (``VmRSS`` in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def node_command(script: str, config: dict[str, Any]) -> list[str]:
    """``node bench/js/<script> '<config json>'``."""
    return ["node", str(JS_DIR / script), json.dumps(config)]


def run_node(script: str, config: dict[str, Any], timeout: float = 300) -> Any:
    """Run a bench Node script to the end; return its last JSON line."""
    result = subprocess.run(
        node_command(script, config),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(
            f"node {script} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return json.loads(lines[-1])


class NodeProcess:
    """A bench Node script that talks JSON lines on stdin/stdout."""

    def __init__(self, script: str, config: dict[str, Any]) -> None:
        self.script = script
        self.process = subprocess.Popen(
            node_command(script, config),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def read(self, kind: str, timeout: float = 300) -> dict[str, Any]:
        """Block until a JSON line of ``kind`` (fail on ``error``)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                err = self.process.stderr.read() if self.process.stderr else ""
                raise RuntimeError(f"node {self.script} exited: {err[-2000:]}")
            if not line.startswith("{"):
                continue
            message = dict(json.loads(line))
            if message.get("kind") == "error":
                raise RuntimeError(f"node {self.script}: {message}")
            if message.get("kind") == kind:
                return message
        raise TimeoutError(f"node {self.script}: no {kind!r} line")

    def send(self, command: dict[str, Any]) -> None:
        """Write one JSON command line."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        """Stop the script (it exits when stdin closes)."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def git_commit() -> str:
    """The short commit of the checkout (``unknown`` outside git)."""
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def record(name: str, row: dict[str, Any]) -> None:
    """Append one result as a JSON line to ``bench/results/<name>.jsonl``."""
    RESULTS_DIR.mkdir(exist_ok=True)
    line = {
        "bench": name,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": git_commit(),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        **({"server_dir": SERVER_DIR} if SERVER_DIR else {}),
        **row,
    }
    with (RESULTS_DIR / f"{name}.jsonl").open("a") as handle:
        handle.write(json.dumps(line) + "\n")


def fmt(value: Any) -> str:
    """A table cell: floats with sensible precision."""
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def print_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Print a plain-text table with right-aligned numeric columns."""
    cells = [[fmt(value) for value in row] for row in rows]
    widths = [
        max([len(header)] + [len(row[i]) for row in cells])
        for i, header in enumerate(headers)
    ]
    print(f"\n{title}")
    print("  " + "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in cells:
        print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
