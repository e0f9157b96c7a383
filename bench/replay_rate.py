"""Replay rate: events/s replayed to one client at reconnect.

Publishes ``--events`` alerts to a tenant, then connects a client of that tenant
with ``last_event_id`` just before them and times connect -> ``replay_complete``.
Two clients: a Node socket.io-client that only counts (bench/js/replay.mjs) and
python-socketio's ``Client`` (threaded, as an integration would use it).
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import socketio

from bench.common import (
    DATABASES,
    BenchServer,
    cpu_seconds,
    databases,
    node_available,
    print_table,
    record,
    run_node,
    running_server,
)
from tests.support.world import publish_alerts

NAME = "replay_rate"
CLIENTS = ("node", "python")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument("--repeat", type=int, default=1)


def python_replay(url: str, token: str, last_event_id: int) -> dict[str, Any]:
    """Replay into a ``socketio.Client``; count events until replay_complete."""
    client = socketio.Client(reconnection=False)
    done = threading.Event()
    state: dict[str, Any] = {"count": 0, "first": None, "complete": None}

    @client.on("*", namespace="/engagement")
    def _any(event: str, data: Any = None) -> None:
        if isinstance(data, dict) and data.get("replayed"):
            if state["first"] is None:
                state["first"] = time.perf_counter()
            state["count"] += 1
        elif event == "replay_complete":
            state["complete"] = data
            state["end"] = time.perf_counter()
            done.set()

    start = time.perf_counter()
    client.connect(
        url,
        namespaces=["/engagement"],
        auth={"token": token, "last_event_id": last_event_id},
        transports=["websocket"],
        wait_timeout=30,
    )
    connected = time.perf_counter()
    try:
        if not done.wait(300):
            raise RuntimeError(f"python replay timed out after {state['count']}")
    finally:
        client.disconnect()
    end = state["end"]
    return {
        "count": state["count"],
        "complete": state["complete"],
        "connect_ms": (connected - start) * 1000,
        "total_ms": (end - start) * 1000,
        "replay_ms": (end - (state["first"] or end)) * 1000,
    }


def measure(server: BenchServer, client: str, last_event_id: int) -> dict[str, Any]:
    """One replay with one client kind."""
    token = server.world.user_a.access_token
    if client == "node":
        config = {"url": server.url, "token": token, "last_event_id": last_event_id}
        return dict(run_node("replay.mjs", config))
    return python_replay(server.url, token, last_event_id)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the benchmark; print the table; return the rows."""
    clients = [c for c in args.clients if c == "python" or node_available()]
    rows: list[dict[str, Any]] = []
    for database in databases(args.db):
        env = {"REPLAY_MAX_EVENTS": str(max(10_000, args.events))}
        with running_server(database, env) as server:
            world = server.world
            start = time.perf_counter()
            ids = publish_alerts(
                server.url, world.key_a, world.tenant_a["id"], args.events
            )
            publish_s = time.perf_counter() - start
            for client in clients:
                for attempt in range(args.repeat):
                    cpu = cpu_seconds(server.pid)
                    result = measure(server, client, ids[0] - 1)
                    cpu_ms = (cpu_seconds(server.pid) - cpu) * 1000
                    assert result["count"] == args.events, result
                    row = {
                        "database": database,
                        "client": client,
                        "attempt": attempt,
                        "events": result["count"],
                        "total_ms": round(result["total_ms"], 1),
                        "replay_ms": round(result["replay_ms"], 1),
                        "events_per_s": round(
                            result["count"] / (result["total_ms"] / 1000), 1
                        ),
                        "server_cpu_ms_per_event": round(cpu_ms / result["count"], 3),
                        "batch_publish_events_per_s": round(args.events / publish_s),
                    }
                    record(NAME, row)
                    rows.append(row)
    print_table(
        f"replay_rate: {args.events} events replayed to one client at reconnect",
        [
            "database",
            "client",
            "events",
            "connect->complete ms",
            "events/s",
            "CPU ms/event",
        ],
        [
            [
                r["database"],
                r["client"],
                r["events"],
                r["total_ms"],
                r["events_per_s"],
                r["server_cpu_ms_per_event"],
            ]
            for r in rows
        ],
    )
    return rows
