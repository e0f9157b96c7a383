"""Does the PostgreSQL driver block the eventlet/gevent hub?

N greenlets each run ``SELECT pg_sleep(0.05)`` on their own connection. A
cooperative driver finishes in about 50 ms; a blocking one takes about N x 50 ms.
Each (hub, driver) pair runs in its own subprocess, since monkey-patching is
per process::

    python -m bench.pg_driver [--url postgresql://postgres@127.0.0.1:5432/test] [-n 20]

pg8000 is optional (``pip install pg8000``); it is skipped when absent.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

DRIVERS = ("psycopg2", "psycopg2+psycogreen", "pg8000")
HUBS = ("eventlet", "gevent")


def _patch(hub: str, driver: str) -> tuple[Any, Any]:
    """Monkey-patch for ``hub`` (and psycopg2 when asked); return (spawn, join)."""
    if hub == "eventlet":
        import eventlet

        eventlet.monkey_patch()
        if driver == "psycopg2+psycogreen":
            from psycogreen.eventlet import patch_psycopg

            patch_psycopg()
        pool = eventlet.GreenPool()
        return pool.spawn, lambda _threads: pool.waitall()
    from gevent import joinall, monkey, spawn

    monkey.patch_all()
    if driver == "psycopg2+psycogreen":
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
    return spawn, joinall


def _connect(driver: str, url: str) -> Any:
    if driver == "pg8000":
        from urllib.parse import urlparse

        import pg8000.dbapi

        parts = urlparse(url)
        return pg8000.dbapi.connect(
            user=parts.username or "postgres",
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            database=parts.path.lstrip("/") or "postgres",
            password=parts.password,
        )
    import psycopg2

    return psycopg2.connect(url)


def run_one(hub: str, driver: str, url: str, n: int) -> dict[str, Any]:
    """Time ``n`` concurrent ``pg_sleep(0.05)`` queries (connections opened first)."""
    spawn, join = _patch(hub, driver)
    connections = [_connect(driver, url) for _ in range(n)]

    def query(conn: Any) -> None:
        cursor = conn.cursor()
        cursor.execute("SELECT pg_sleep(0.05)")
        cursor.fetchall()

    start = time.perf_counter()
    join([spawn(query, conn) for conn in connections])
    elapsed = time.perf_counter() - start
    for conn in connections:
        conn.close()
    return {"hub": hub, "driver": driver, "n": n, "ms": round(elapsed * 1000, 1)}


def main() -> None:
    """Run every (hub, driver) pair in a subprocess and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--one", nargs=2, metavar=("HUB", "DRIVER"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], args.url, args.n)))
        return
    print(f"{args.n} greenlets x SELECT pg_sleep(0.05); cooperative ~ 50 ms")
    for hub in HUBS:
        for driver in DRIVERS:
            result = subprocess.run(
                [
                    sys.executable,
                    "-W",
                    "ignore",
                    "-m",
                    "bench.pg_driver",
                    "--url",
                    args.url,
                    "-n",
                    str(args.n),
                    "--one",
                    hub,
                    driver,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["failed"])[-1]
                print(f"  {hub:<8} {driver:<20} skipped: {last}")
                continue
            row = json.loads(result.stdout.strip().splitlines()[-1])
            print(f"  {hub:<8} {driver:<20} {row['ms']:>8.1f} ms")


if __name__ == "__main__":
    main()
