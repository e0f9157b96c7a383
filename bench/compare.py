"""Side by side: Switchboard and a Node socket.io 4.8 reference server, one run.

The same load generator (bench/js/load.mjs, official socket.io-client) drives
Switchboard (one eventlet process, SQLite) and bench/js/ref_server.mjs (room from
``auth.room``, ``POST /publish`` looping ``io.to(room).emit``), scenario by
scenario, alternating servers, each on a fresh process:

  A  connect storm of N clients (connects/s; server CPU per connect), then with
     those N connected: one batch of 200 events; sequential single publishes
     (each waited for); N/10 rooms x 10 clients (one event per room per round);
     steady 20 events/s (p50/p99 latency)
  B  connect storm of M clients on a fresh process, idle memory per connection
     (VmRSS growth / clients) at M and at a larger size

then, Switchboard only (the reference has no persistence): publish throughput
(1 and 8 in flight, batch of 100) on SQLite and PostgreSQL; a 2-process cluster on
Redis + PostgreSQL against one of its processes; the refusal flood.
Every scenario checks that nothing was lost, duplicated, misrouted or reordered
and the run fails (exit 1) if anything was. CPU figures come from
/proc/<pid>/stat (user + system), which holds on a busy machine; wall-clock
figures (connects/s, deliveries/s, latency) move with the machine's load, which
each row records.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench import refusal_flood
from bench.common import (
    REDIS_URL,
    ROOT,
    NodeProcess,
    cpu_seconds,
    databases,
    load_average,
    node_available,
    node_reference,
    print_table,
    raise_open_files_limit,
    record,
    redis_available,
    rss_kb,
    run_node,
    running_server,
)

NAME = "compare"
NAMESPACE = "/engagement"
TARGETS = ("switchboard", "node")
CONNECT_CONCURRENCY = 100


@dataclass(frozen=True)
class Sizes:
    """The sizes of one run (``--full`` or the small default)."""

    fanout_clients: int
    memory_clients: tuple[int, int]
    batch: int
    sequential: int
    rounds: int
    steady_rate: float
    steady_s: float
    publish_s: float
    flood: int


SMALL = Sizes(200, (500, 1000), 200, 50, 10, 20.0, 5.0, 3.0, 1000)
FULL = Sizes(1000, (2000, 5000), 200, 200, 20, 20.0, 10.0, 6.0, 3000)


@dataclass
class Target:
    """One server under test and what load.mjs needs to address it."""

    name: str
    pid: int
    config: dict[str, Any]


@contextmanager
def switchboard(users: int) -> Iterator[Target]:
    """One Switchboard process on SQLite with ``users`` users in one tenant."""
    env = {"MAX_CONNECTIONS_PER_USER": "1000000"}
    with running_server("sqlite", env) as server:
        world = server.world
        tenant = world.tenant_a["id"]
        members = [world.add_user(tenant) for _ in range(users)]
        yield Target(
            "switchboard",
            server.pid,
            {
                "kind": "switchboard",
                "url": server.url,
                "api_key": world.key_a,
                "auths": [{"token": m.access_token} for m in members],
                "all_target": {"tenant": tenant},
                "user_targets": [{"user": m.id} for m in members],
            },
        )


@contextmanager
def reference(users: int) -> Iterator[Target]:
    """The Node reference server; client of user k joins ``tenant`` and ``user:k``."""
    with node_reference(NAMESPACE) as server:
        yield Target(
            "node",
            server.pid,
            {
                "kind": "node",
                "url": server.url,
                "auths": [{"room": ["tenant", f"user:{k}"]} for k in range(users)],
                "all_target": "tenant",
                "user_targets": [f"user:{k}" for k in range(users)],
            },
        )


def start(name: str, users: int) -> Any:
    """Context manager for target ``name``."""
    return switchboard(users) if name == "switchboard" else reference(users)


class Load:
    """bench/js/load.mjs bound to one target."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.node = NodeProcess(
            "load.mjs", {**target.config, "namespace": NAMESPACE, "event": "alert"}
        )
        self.node.read("ready")

    def call(self, reply: str, **command: Any) -> dict[str, Any]:
        """Send one command; return its answer and the CPU it cost.

        ``server_busy``/``client_busy`` are CPU seconds per wall second of the
        server and of the load generator: near 1.0 that process was saturated
        (one core); both well below 1.0 with high latency means the machine
        was busy with other work.
        """
        client = self.node.process.pid
        server_cpu, client_cpu = cpu_seconds(self.target.pid), cpu_seconds(client)
        start = time.monotonic()
        self.node.send(command)
        answer = self.node.read(reply, timeout=900)
        wall = max(1e-9, time.monotonic() - start)
        answer["server_cpu_s"] = cpu_seconds(self.target.pid) - server_cpu
        answer["server_busy"] = round(answer["server_cpu_s"] / wall, 2)
        answer["client_busy"] = round((cpu_seconds(client) - client_cpu) / wall, 2)
        return answer

    def connect(self, n: int) -> dict[str, Any]:
        """Connect ``n`` more clients."""
        return self.call(
            "connected", cmd="connect", n=n, concurrency=CONNECT_CONCURRENCY
        )

    def close(self) -> None:
        """Disconnect everything and stop the script."""
        self.node.close()


class Run:
    """The rows of one comparison run and the problems found."""

    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        # Tells this run's lines apart in compare.jsonl (bench.compare_report).
        self.run_id = time.strftime("%Y%m%dT%H%M%S")
        self.size_name = "full" if sizes == FULL else "small"
        self.rows: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def add(self, scenario: str, target: str, **fields: Any) -> dict[str, Any]:
        """Record one row (and print it as it comes)."""
        row = {
            "run": self.run_id,
            "sizes": self.size_name,
            "scenario": scenario,
            "target": target,
            "load": load_average(),
        }
        row.update(fields)
        record(NAME, row)
        self.rows.append(row)
        shown = {k: v for k, v in fields.items() if not isinstance(v, dict)}
        print(f"  {scenario:<22} {target:<12} {shown}", flush=True)
        return row

    def check_connect(self, scenario: str, target: str, answer: dict[str, Any]) -> None:
        """Every attempt connected."""
        if answer["ok"] != answer["attempts"]:
            self.fail(
                f"{scenario} {target}: {answer['ok']}/{answer['attempts']}"
                f" connected, refused {answer['refused']}"
            )

    def check_delivery(
        self, scenario: str, target: str, answer: dict[str, Any]
    ) -> None:
        """Nothing lost, duplicated, misrouted, reordered or refused."""
        bad = {
            k: answer[k]
            for k in ("missing", "duplicates", "out_of_order", "misrouted")
            if answer[k]
        }
        if answer["received"] != answer["expected"]:
            bad["received"] = f"{answer['received']}/{answer['expected']}"
        failed = {k: v for k, v in answer["statuses"].items() if not k.startswith("2")}
        if failed:
            bad["http"] = failed
        if bad:
            self.fail(f"{scenario} {target}: {bad}")

    def fail(self, message: str) -> None:
        """Note a correctness failure (printed now and at the end)."""
        self.problems.append(message)
        print(f"  FAILED: {message}", flush=True)


def delivery_fields(answer: dict[str, Any]) -> dict[str, Any]:
    """The figures of a publish answer, with server CPU per recipient."""
    received = max(1, answer["received"])
    return {
        "clients": answer["clients"],
        "events": answer["events"],
        "deliveries": answer["received"],
        "expected": answer["expected"],
        "deliveries_per_s": round(answer["deliveries_per_s"]),
        "p50_ms": round(answer["p50_ms"] or 0, 1),
        "p99_ms": round(answer["p99_ms"] or 0, 1),
        "max_ms": round(answer["max_ms"] or 0, 1),
        "post_p50_ms": round(answer["post_p50_ms"] or 0, 1),
        "post_p99_ms": round(answer["post_p99_ms"] or 0, 1),
        "cpu_us_per_recipient": round(answer["server_cpu_s"] * 1e6 / received, 1),
        "missing": answer["missing"],
        "duplicates": answer["duplicates"],
        "out_of_order": answer["out_of_order"],
        "misrouted": answer["misrouted"],
        "statuses": answer["statuses"],
        "server_busy": answer["server_busy"],
        "client_busy": answer["client_busy"],
    }


def storm(run: Run, scenario: str, target: Target, load: Load, n: int) -> None:
    """Connect ``n`` clients (a few warm-up connects first, not counted)."""
    answer = load.connect(n)
    run.check_connect(scenario, target.name, answer)
    run.add(
        scenario,
        target.name,
        clients=n,
        connects_per_s=round(answer["ok"] / answer["seconds"], 1),
        cpu_ms_per_connect=round(answer["server_cpu_s"] * 1000 / max(1, n), 3),
        seconds=round(answer["seconds"], 2),
        server_busy=answer["server_busy"],
        client_busy=answer["client_busy"],
    )


def warm_up(load: Load) -> None:
    """Connect and drop a few clients so lazy imports are not measured."""
    load.connect(10)
    load.call("disconnected", cmd="disconnect")
    time.sleep(0.5)


def phase_a(run: Run, name: str) -> None:
    """Storm of N, then fan-out batch, sequential, rooms and steady to those N."""
    sizes = run.sizes
    n = sizes.fanout_clients
    with start(name, users=n // 10) as target:
        load = Load(target)
        try:
            warm_up(load)
            storm(run, f"connect_storm_{n}", target, load, n)
            time.sleep(1)
            scenarios: list[tuple[str, dict[str, Any]]] = [
                (
                    f"fanout_batch_{sizes.batch}",
                    {"mode": "batch", "count": sizes.batch},
                ),
                (
                    f"fanout_sequential_{sizes.sequential}",
                    {"mode": "sequential", "events": sizes.sequential},
                ),
                (
                    f"rooms_{n // 10}x10",
                    {"mode": "rooms", "rounds": sizes.rounds},
                ),
                (
                    f"steady_{sizes.steady_rate:g}_per_s",
                    {
                        "mode": "steady",
                        "rate": sizes.steady_rate,
                        "duration_s": sizes.steady_s,
                    },
                ),
            ]
            for scenario, command in scenarios:
                answer = load.call("published", cmd="publish", **command)
                run.check_delivery(scenario, name, answer)
                run.add(scenario, name, **delivery_fields(answer))
        finally:
            load.close()


def phase_b(run: Run, name: str) -> None:
    """Storm of M on a fresh process; idle memory per connection at M and more."""
    first, second = run.sizes.memory_clients
    with start(name, users=100) as target:
        load = Load(target)
        try:
            warm_up(load)
            before = rss_kb(target.pid)
            storm(run, f"connect_storm_{first}", target, load, first)
            for total in (first, second):
                if total > first:
                    answer = load.connect(total - first)
                    run.check_connect(f"idle_memory_{total}", name, answer)
                time.sleep(2)
                after = rss_kb(target.pid)
                run.add(
                    f"idle_memory_{total}",
                    name,
                    clients=total,
                    rss_before_kb=before,
                    rss_after_kb=after,
                    kb_per_connection=round((after - before) / total, 1),
                )
        finally:
            load.close()


def publish_check(
    server: Any, urls: list[str], batch: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    """bench/js/publish_check.mjs against ``urls``; adds server CPU per event."""
    cpu = sum(cpu_seconds(pid) for pid in server.pids)
    answer = dict(
        run_node(
            "publish_check.mjs",
            {
                "urls": urls,
                "api_key": server.world.key_a,
                "tenant_id": server.world.tenant_a["id"],
                "token": server.world.user_a.access_token,
                "namespace": NAMESPACE,
                "batch": batch,
                "concurrency": concurrency,
                "duration_s": seconds,
            },
            timeout=seconds + 120,
        )
    )
    answer["server_cpu_s"] = sum(cpu_seconds(pid) for pid in server.pids) - cpu
    return answer


def publish_fields(answer: dict[str, Any]) -> dict[str, Any]:
    """The figures of a publish_check answer."""
    return {
        "events": answer["events"],
        "events_per_s": round(answer["events_per_s"], 1),
        "p50_ms": round(answer["p50_ms"] or 0, 2),
        "p99_ms": round(answer["p99_ms"] or 0, 2),
        "cpu_ms_per_event": round(
            answer["server_cpu_s"] * 1000 / max(1, answer["events"]), 3
        ),
        "statuses": answer["statuses"],
        "missing": answer["missing"],
        "duplicates": answer["duplicates"],
        "out_of_order": answer["out_of_order"],
    }


def check_publish(run: Run, scenario: str, answer: dict[str, Any]) -> None:
    """Every 202's id reached every subscriber once, in order; no other status."""
    bad = {
        k: answer[k]
        for k in ("missing", "duplicates", "out_of_order", "unexpected")
        if answer[k]
    }
    failed = {k: v for k, v in answer["statuses"].items() if k != "202"}
    if failed:
        bad["http"] = failed
    if not answer["events"]:
        bad["events"] = 0
    if bad:
        run.fail(f"{scenario}: {bad}")


PUBLISH_MODES = (("single_1", 0, 1), ("single_8", 0, 8), ("batch100_1", 100, 1))


def publish_section(run: Run) -> None:
    """Publish throughput on SQLite and PostgreSQL (Switchboard only)."""
    for database in databases(["sqlite", "postgresql"]):
        with running_server(database) as server:
            for label, batch, concurrency in PUBLISH_MODES:
                scenario = f"publish_{database}_{label}"
                answer = publish_check(
                    server, [server.url], batch, concurrency, run.sizes.publish_s
                )
                check_publish(run, scenario, answer)
                run.add(scenario, "switchboard", **publish_fields(answer))


def cluster_section(run: Run) -> None:
    """Two processes on Redis + PostgreSQL: 8 in flight to one, then to each."""
    if not redis_available() or not databases(["postgresql"]):
        print("  (cluster: needs Redis and PostgreSQL: skipped)")
        return
    env = {"MESSAGE_QUEUE_URL": REDIS_URL}
    with running_server("postgresql", env, processes=2) as server:
        rates = {}
        for label, urls in (
            ("1_process", server.urls[:1]),
            ("2_processes", server.urls),
        ):
            scenario = f"cluster_{label}"
            answer = publish_check(server, urls, 0, 8, run.sizes.publish_s)
            check_publish(run, scenario, answer)
            row = run.add(scenario, "switchboard", **publish_fields(answer))
            rates[label] = row["events_per_s"]
        print(
            "  cluster: 2 processes publish "
            f"{rates['2_processes'] / max(1e-9, rates['1_process']):.2f}x one process"
        )


def flood_section(run: Run) -> None:
    """Issue 10 point 8: /health latency during a refused-connection flood."""
    row = refusal_flood.flood(run.sizes.flood, refusal_flood.CONCURRENCY)
    for problem in row.pop("problems"):
        run.fail(f"refusal_flood: {problem}")
    row.pop("load")
    run.add("refusal_flood", "switchboard", **row)


# (scenario prefix, metric, label, True when higher is better)
COMPARED = (
    ("connect_storm", "connects_per_s", "connects/s", True),
    ("connect_storm", "cpu_ms_per_connect", "CPU ms/connect", False),
    ("fanout", "deliveries_per_s", "deliveries/s", True),
    ("fanout", "p50_ms", "p50 ms", False),
    ("fanout", "p99_ms", "p99 ms", False),
    ("fanout", "cpu_us_per_recipient", "CPU us/recipient", False),
    ("rooms", "deliveries_per_s", "deliveries/s", True),
    ("rooms", "p99_ms", "p99 ms", False),
    ("rooms", "cpu_us_per_recipient", "CPU us/recipient", False),
    ("steady", "p50_ms", "p50 ms", False),
    ("steady", "p99_ms", "p99 ms", False),
    ("steady", "cpu_us_per_recipient", "CPU us/recipient", False),
    ("idle_memory", "kb_per_connection", "KB/connection", False),
)


def busy(row: dict[str, Any]) -> str:
    """``server/client`` busy fractions of a row, or ``-``."""
    if "server_busy" not in row:
        return "-"
    return f"{row['server_busy']:.2f}/{row['client_busy']:.2f}"


def print_comparison(run: Run) -> None:
    """Switchboard/Node ratios per scenario and metric."""
    by_key = {(r["scenario"], r["target"]): r for r in run.rows}
    scenarios = list(dict.fromkeys(r["scenario"] for r in run.rows))
    table = []
    for scenario in scenarios:
        sb, node = by_key.get((scenario, "switchboard")), by_key.get((scenario, "node"))
        if not sb or not node:
            continue
        for prefix, metric, label, _higher in COMPARED:
            if scenario.startswith(prefix) and metric in sb and metric in node:
                ratio = sb[metric] / node[metric] if node[metric] else float("nan")
                table.append(
                    [
                        scenario,
                        label,
                        sb[metric],
                        node[metric],
                        f"{ratio:.2f}",
                        busy(sb),
                        busy(node),
                    ]
                )
    print_table(
        "compare: Switchboard vs the Node socket.io reference (same run, same "
        "load generator; busy = CPU s per wall s of server/load generator)",
        ["scenario", "metric", "switchboard", "node", "SB/Node", "SB busy", "N busy"],
        table,
    )
    publish = [r for r in run.rows if r["scenario"].startswith(("publish", "cluster"))]
    if publish:
        print_table(
            "publish throughput, Switchboard only (the reference persists nothing; "
            "every 202 checked at a subscriber on each process)",
            ["scenario", "events", "events/s", "p50 ms", "p99 ms", "CPU ms/event"],
            [
                [
                    r["scenario"],
                    r["events"],
                    r["events_per_s"],
                    r["p50_ms"],
                    r["p99_ms"],
                    f"{r['cpu_ms_per_event']:.2f}",
                ]
                for r in publish
            ],
        )
    for row in run.rows:
        if row["scenario"] == "refusal_flood":
            refusal_flood.print_row(row)


SECTIONS = ("fanout", "memory", "publish", "cluster", "flood")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument(
        "--full",
        action="store_true",
        help="the issue's sizes: storms of 1,000 and 2,000, fan-out to 1,000, "
        "memory at 2,000 and 5,000, 3,000-attempt flood (~15 min)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), metavar="PART"
    )


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the comparison; print the tables; exit 1 if anything was lost."""
    if not node_available() or not (ROOT / "node_modules" / "socket.io").is_dir():
        print("compare needs node, socket.io and socket.io-client (npm ci): skipped")
        return []
    limit = raise_open_files_limit()
    current = Run(FULL if args.full else SMALL)
    print(
        f"  sizes: {current.sizes}\n  open files limit {limit}; "
        f"load average at start: {load_average()}",
        flush=True,
    )
    for name in TARGETS if "fanout" in args.only else ():
        phase_a(current, name)
    for name in TARGETS if "memory" in args.only else ():
        phase_b(current, name)
    if "publish" in args.only:
        publish_section(current)
    if "cluster" in args.only:
        cluster_section(current)
    if "flood" in args.only:
        flood_section(current)
    print_comparison(current)
    print(f"\n  load average at the end: {load_average()}")
    if current.problems:
        print("\nFAILED: nothing may be lost, duplicated or reordered:")
        for problem in current.problems:
            print(f"  - {problem}")
        raise SystemExit(1)
    return current.rows
