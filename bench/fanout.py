"""Fan-out: one publish to a tenant room with N connected clients.

One Node process opens N socket.io-client connections (bench/js/fanout.mjs) to the
tenant room, then publishes a stream of alerts, one at a time, and times each until
all N clients received it. Runs with ``WEBSOCKET_COMPRESSION=0`` and ``=1``; the
Node client offers permessage-deflate either way (socket.io-client's default, as
every browser does), so ``=1`` is what browsers get when compression is enabled.
Server memory per connection is the growth of VmRSS (/proc/<pid>/status) from
before connecting to after the stream, divided by N.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.common import (
    DATABASES,
    NodeProcess,
    node_available,
    print_table,
    record,
    rss_kb,
    running_server,
)

NAME = "fanout"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--clients", nargs="+", type=int, default=[100, 500, 1000])
    parser.add_argument(
        "--compression", nargs="+", choices=["0", "1"], default=["0", "1"]
    )
    parser.add_argument("--events", type=int, default=20, help="timed publishes")
    parser.add_argument("--db", choices=DATABASES, default="sqlite")


def measure(
    server_url: str, pid: int, world: Any, n: int, events: int
) -> dict[str, Any]:
    """Connect N clients, stream ``events`` publishes, read RSS around it."""
    before = rss_kb(pid)
    node = NodeProcess(
        "fanout.mjs",
        {
            "url": server_url,
            "token": world.user_a.access_token,
            "api_key": world.key_a,
            "tenant_id": world.tenant_a["id"],
            "n": n,
            "events": events,
        },
    )
    try:
        connected = node.read("connected", timeout=300)
        time.sleep(0.5)
        after_connect = rss_kb(pid)
        node.send({"cmd": "go"})
        result = node.read("result", timeout=600)
        after_stream = rss_kb(pid)
    finally:
        node.close()
    return {
        "connect_s": round(connected["connect_ms"] / 1000, 2),
        "extensions": connected["extensions"] or "",
        "rss_before_kb": before,
        "rss_connected_kb": after_connect,
        "rss_after_kb": after_stream,
        "kb_per_conn_connected": round((after_connect - before) / n, 1),
        "kb_per_conn": round((after_stream - before) / n, 1),
        **{k: v for k, v in result.items() if k != "kind"},
    }


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the benchmark; print the table; return the rows."""
    if not node_available():
        print("fanout needs node and socket.io-client: skipped")
        return []
    rows: list[dict[str, Any]] = []
    for compression in args.compression:
        for n in args.clients:
            env = {
                "WEBSOCKET_COMPRESSION": compression,
                "MAX_CONNECTIONS_PER_USER": str(n + 10),
            }
            # A fresh server per size, so RSS growth is this size's alone.
            with running_server(args.db, env) as server:
                row = {
                    "compression": compression,
                    "clients": n,
                    **measure(server.url, server.pid, server.world, n, args.events),
                }
            record(NAME, row)
            rows.append(row)
    print_table(
        f"fanout: one alert to a tenant room, {args.events} events per row "
        "(all = until every client has it)",
        [
            "compression",
            "negotiated",
            "clients",
            "all p50 ms",
            "all p99 ms",
            "receipt p50",
            "receipt p99",
            "missing",
            "KB/conn idle",
            "KB/conn",
            "connect s",
        ],
        [
            [
                r["compression"],
                r["extensions"] or "-",
                r["clients"],
                r["all_p50_ms"],
                r["all_p99_ms"],
                r["receipt_p50_ms"],
                r["receipt_p99_ms"],
                r["missing"],
                r["kb_per_conn_connected"],
                r["kb_per_conn"],
                r["connect_s"],
            ]
            for r in rows
        ],
    )
    return rows
