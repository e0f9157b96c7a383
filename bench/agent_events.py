"""Agent-run events: per-user latency at more than 100 events/s in total.

``--users`` users of one tenant each hold one /events connection and one agent
run. bench/js/agent.mjs POSTs ``agent_thinking`` events to
/api/agent-runs/<id>/events at ``--rate`` events/s in total (round robin over the
runs) and times each from just before the POST to its receipt on the run's user's
connection; it also checks that no event reached another user.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.common import (
    DATABASES,
    cpu_seconds,
    databases,
    node_available,
    print_table,
    record,
    run_node,
    running_server,
)
from tests.support.world import Api

NAME = "agent_events"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--rate", nargs="+", type=float, default=[60.0, 120.0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds")
    parser.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the benchmark; print the table; return the rows."""
    if not node_available():
        print("agent_events needs node and socket.io-client: skipped")
        return []
    rows: list[dict[str, Any]] = []
    for database in databases(args.db):
        with running_server(database) as server:
            world = server.world
            api = Api(server.url, api_key=world.key_a)
            users = []
            for _ in range(args.users):
                member = world.add_user(world.tenant_a["id"])
                response = api.post(
                    "/api/agent-runs", json={"user_id": member.id, "name": "bench"}
                )
                assert response.status_code == 201, response.text
                users.append(
                    {"token": member.access_token, "run_id": response.json()["id"]}
                )
            for rate in args.rate:
                cpu = cpu_seconds(server.pid)
                result = run_node(
                    "agent.mjs",
                    {
                        "url": server.url,
                        "api_key": world.key_a,
                        "users": users,
                        "rate": rate,
                        "duration_s": args.duration,
                    },
                )
                row = {
                    "database": database,
                    "target_rate": rate,
                    "server_cpu_ms_per_event": round(
                        (cpu_seconds(server.pid) - cpu) * 1000 / result["sent"], 2
                    ),
                    **{k: v for k, v in result.items() if k != "kind"},
                }
                record(NAME, row)
                rows.append(row)
    print_table(
        "agent_events: POST /api/agent-runs/<id>/events -> receipt on the user's"
        f" /events connection ({args.duration:g} s per row)",
        [
            "database",
            "users",
            "events/s",
            "sent",
            "missing",
            "misrouted",
            "p50 ms",
            "p99 ms",
            "max ms",
            "POST p50",
            "POST p99",
            "CPU ms/event",
        ],
        [
            [
                r["database"],
                r["users"],
                r["rate"],
                r["sent"],
                r["missing"],
                r["misrouted"],
                r["p50_ms"],
                r["p99_ms"],
                r["max_ms"],
                r["post_p50_ms"],
                r["post_p99_ms"],
                r["server_cpu_ms_per_event"],
            ]
            for r in rows
        ],
    )
    return rows
