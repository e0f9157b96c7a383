"""Publish load: events/s and server CPU per event for POST /api/publish(/batch).

Run from the repository root (the shared venv):
    python docs/profiles/publish_load.py --db sqlite --inflight 1 8 --batch 100
Closed loop, keep-alive HTTP clients on threads; server CPU from /proc.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import cpu_seconds, running_server  # noqa: E402


def _body(tenant_id: int, n: int) -> dict[str, Any]:
    return {
        "namespace": "/engagement",
        "event": "alert",
        "target": {"tenant": tenant_id},
        "data": {"title": f"load-{n}", "severity": "info"},
    }


def _load(
    port: int, key: str, tenant_id: int, inflight: int, batch: int, seconds: float
) -> int:
    """Run ``inflight`` closed-loop clients for ``seconds``; return events sent."""
    stop = time.monotonic() + seconds
    counts = [0] * inflight
    errors: list[str] = []

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"X-API-Key": key, "Content-Type": "application/json"}
        n = 0
        while time.monotonic() < stop:
            if batch > 1:
                path = "/api/publish/batch"
                payload: Any = [_body(tenant_id, n + i) for i in range(batch)]
            else:
                path, payload = "/api/publish", _body(tenant_id, n)
            conn.request("POST", path, json.dumps(payload), headers)
            response = conn.getresponse()
            text = response.read()
            if response.status != 202:
                errors.append(f"{response.status} {text[:200]!r}")
                return
            n += batch
            counts[index] += batch

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(inflight)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"errors: {errors[:3]}")
    return sum(counts)


def _groups(port: int) -> tuple[float, float]:
    """(commits, events) of the group writer so far, from /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    values = {"count": 0.0, "sum": 0.0}
    for line in conn.getresponse().read().decode().splitlines():
        for suffix in values:
            if line.startswith(f"switchboard_publish_group_events_{suffix} "):
                values[suffix] = float(line.split()[1])
    return values["count"], values["sum"]


def main() -> None:
    """Parse options, run every scenario, print one line each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", nargs="+", default=["sqlite"])
    parser.add_argument("--inflight", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--redis", default="")
    parser.add_argument("--pyspy", default="", help="py-spy binary: record each run")
    parser.add_argument("--out", default="/tmp/publish-profile")
    args = parser.parse_args()
    extra = {"MESSAGE_QUEUE_URL": args.redis} if args.redis else {}
    for database in args.db:
        with running_server(database, extra) as bench:
            world = bench.world
            port = int(world.url.rsplit(":", 1)[1])
            tenant_id = world.tenant_a["id"]
            _load(port, world.key_a, tenant_id, 2, 1, 1.0)  # warm up
            scenarios = [(n, 1) for n in args.inflight]
            if args.batch > 1:
                scenarios.append((2, args.batch))
            for inflight, batch in scenarios:
                spy = None
                if args.pyspy:
                    name = f"{args.out}-{database}-{inflight}x{batch}.txt"
                    spy = subprocess.Popen(
                        [
                            args.pyspy,
                            "record",
                            "--pid",
                            str(bench.pid),
                            "--format",
                            "raw",
                            "--output",
                            name,
                            "--duration",
                            str(int(args.seconds)),
                            "--rate",
                            "200",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                groups0 = _groups(port)
                cpu0, t0 = cpu_seconds(bench.pid), time.monotonic()
                events = _load(
                    port, world.key_a, tenant_id, inflight, batch, args.seconds
                )
                cpu = cpu_seconds(bench.pid) - cpu0
                wall = time.monotonic() - t0
                if spy is not None:
                    spy.wait()
                commits, grouped = (
                    b - a for a, b in zip(groups0, _groups(port), strict=True)
                )
                print(
                    f"{database:10} inflight={inflight:<2} batch={batch:<4}"
                    f" {events / wall:9.0f} events/s"
                    f" {cpu / events * 1e6:8.0f} us server CPU/event"
                    f"  {grouped / commits if commits else 0:5.1f} events/commit",
                    flush=True,
                )


if __name__ == "__main__":
    main()
