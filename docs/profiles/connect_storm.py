"""Connect storms against one server, CPU per connect, optionally under py-spy.

    python docs/profiles/connect_storm.py 2000 --rounds 2
    python docs/profiles/connect_storm.py 1000 --pyspy "$(which py-spy)" --out /tmp/c
    BENCH_SERVER_DIR=/path/to/other/checkout python docs/profiles/connect_storm.py 2000

The server and the load are those of ``python -m bench compare`` (one eventlet
process on SQLite, 100 users in one tenant, bench/js/load.mjs: socket.io-client,
websocket transport, 100 connects in flight). Each round connects N clients,
prints server CPU per connect (/proc/<pid>/stat) and connects/s, then disconnects
them all. ``--target node`` runs the Node socket.io reference instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import raise_open_files_limit, rss_kb  # noqa: E402
from bench.compare import Load, reference, switchboard, warm_up  # noqa: E402


def main() -> None:
    """Parse the options and run the rounds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clients", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--target", choices=("switchboard", "node"), default="switchboard"
    )
    parser.add_argument("--pyspy", help="a py-spy binary: record the server (raw)")
    parser.add_argument("--out", default="/tmp/connect-storm.txt")
    args = parser.parse_args()
    raise_open_files_limit()
    users = 100
    target_cm = switchboard(users) if args.target == "switchboard" else reference(users)
    with target_cm as target:
        load = Load(target)
        spy = None
        try:
            warm_up(load)
            if args.pyspy:
                command = [args.pyspy, "record", "-p", str(target.pid), "-r", "200"]
                command += ["--format", "raw", "--nonblocking", "-o", args.out]
                spy = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, env=os.environ
                )
                time.sleep(1)
            for index in range(args.rounds):
                answer = load.connect(args.clients)
                cpu_ms = answer["server_cpu_s"] * 1000 / args.clients
                rate = answer["ok"] / answer["seconds"]
                print(
                    f"round {index}: {answer['ok']}/{args.clients} connected, "
                    f"{cpu_ms:.3f} ms CPU/connect, {rate:.0f} connects/s, "
                    f"server busy {answer['server_busy']}",
                    flush=True,
                )
                load.call("disconnected", cmd="disconnect")
                time.sleep(1.5)
                print(f"  VmRSS after disconnecting: {rss_kb(target.pid)} kB")
        finally:
            if spy is not None:
                spy.send_signal(2)
                spy.wait(30)
            load.close()


if __name__ == "__main__":
    main()
