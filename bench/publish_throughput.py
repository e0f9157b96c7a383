"""Publish throughput: POST /api/publish and /api/publish/batch under load.

``N`` concurrent HTTP clients (bench/js/http_load.mjs, keep-alive, closed loop)
POST alerts to one tenant for a few seconds. Scenarios: SQLite vs PostgreSQL,
without and with a Redis message queue. The publisher holds a lock across
persist + commit + emit (a process lock; with PostgreSQL also an advisory lock,
across processes), so publishes are serialised: this measures what that costs.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.common import (
    DATABASES,
    POSTGRES_URL,
    REDIS_URL,
    cpu_seconds,
    databases,
    node_available,
    print_table,
    record,
    redis_available,
    run_node,
    running_server,
)

NAME = "publish_throughput"
QUEUES = ("none", "redis")
PUBLISH_LOCK_KEY = 0x53574244  # webapp.services.delivery.log_writer.PUBLISH_LOCK_KEY


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--queue", nargs="+", choices=QUEUES, default=list(QUEUES))
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--batch-size", type=int, default=100)


def alert(tenant_id: int, n: int = 0) -> dict[str, Any]:
    """One publish request body."""
    return {
        "namespace": "/engagement",
        "event": "alert",
        "target": {"tenant": tenant_id},
        "data": {"title": f"load-{n}", "severity": "info"},
    }


def advisory_lock_cost(cycles: int = 2000) -> float:
    """Microseconds per lock + unlock + commit on one psycopg2 connection."""
    import psycopg2

    conn = psycopg2.connect(POSTGRES_URL)
    try:
        cursor = conn.cursor()
        start = time.perf_counter()
        for _ in range(cycles):
            cursor.execute("SELECT pg_advisory_lock(%s)", (PUBLISH_LOCK_KEY + 1,))
            cursor.execute("SELECT pg_advisory_unlock(%s)", (PUBLISH_LOCK_KEY + 1,))
            conn.commit()
        return (time.perf_counter() - start) / cycles * 1e6
    finally:
        conn.close()


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the benchmark; print the table; return the rows."""
    if not node_available():
        print("publish_throughput needs node and socket.io-client: skipped")
        return []
    queues = [q for q in args.queue if q == "none" or redis_available()]
    rows: list[dict[str, Any]] = []
    for database in databases(args.db):
        for queue in queues:
            env = {"MESSAGE_QUEUE_URL": REDIS_URL} if queue == "redis" else {}
            with running_server(database, env) as server:
                world = server.world
                tenant = world.tenant_a["id"]
                endpoints = {
                    "publish": ("/api/publish", alert(tenant), 1),
                    "batch": (
                        "/api/publish/batch",
                        [alert(tenant, n) for n in range(args.batch_size)],
                        args.batch_size,
                    ),
                }
                for endpoint, (path, body, per_request) in endpoints.items():
                    for concurrency in args.concurrency:
                        cpu = cpu_seconds(server.pid)
                        result = run_node(
                            "http_load.mjs",
                            {
                                "url": server.url + path,
                                "headers": {"X-API-Key": world.key_a},
                                "body": body,
                                "concurrency": concurrency,
                                "duration_s": args.duration,
                            },
                        )
                        row = {
                            "database": database,
                            "queue": queue,
                            "endpoint": endpoint,
                            "events_per_request": per_request,
                            "concurrency": concurrency,
                            "requests_per_s": round(result["rps"], 1),
                            "events_per_s": round(result["rps"] * per_request, 1),
                            "p50_ms": round(result["p50_ms"] or 0, 2),
                            "p99_ms": round(result["p99_ms"] or 0, 2),
                            "statuses": result["statuses"],
                            "server_cpu_ms_per_event": round(
                                (cpu_seconds(server.pid) - cpu)
                                * 1000
                                / max(1, result["ok"] * per_request),
                                3,
                            ),
                        }
                        record(NAME, row)
                        rows.append(row)
    print_table(
        f"publish_throughput: {args.duration:g} s closed-loop runs "
        f"(batch = {args.batch_size} events per request)",
        [
            "database",
            "queue",
            "endpoint",
            "clients",
            "req/s",
            "events/s",
            "p50 ms",
            "p99 ms",
            "non-202",
            "CPU ms/event",
        ],
        [
            [
                r["database"],
                r["queue"],
                r["endpoint"],
                r["concurrency"],
                r["requests_per_s"],
                r["events_per_s"],
                r["p50_ms"],
                r["p99_ms"],
                sum(v for k, v in r["statuses"].items() if k != "202"),
                r["server_cpu_ms_per_event"],
            ]
            for r in rows
        ],
    )
    if "postgresql" in args.db and databases(["postgresql"]):
        cost = advisory_lock_cost()
        record(NAME, {"advisory_lock_cycle_us": round(cost, 1)})
        print(
            f"\n  PostgreSQL advisory lock + unlock + commit, one connection: "
            f"{cost:.0f} us per publish (the server adds a pool checkout with"
            " pre-ping)"
        )
    return rows
