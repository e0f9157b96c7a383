"""``python -m bench``: list and run every benchmark with small default sizes.

    python -m bench                    # all of them, in order (~10 minutes)
    python -m bench all                # the same
    python -m bench list               # just the list
    python -m bench <name> [--options] # one; --help for its options

Results are printed as tables and appended to bench/results/<name>.jsonl.
``python -m bench.pg_driver`` (does the PostgreSQL driver block the hub?) is
separate.
"""

from __future__ import annotations

import argparse
import sys
import time
from types import ModuleType

from bench import (
    agent_events,
    compare,
    fanout,
    publish_throughput,
    refusal_flood,
    replay_rate,
)

BENCHMARKS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        replay_rate,
        publish_throughput,
        fanout,
        agent_events,
        refusal_flood,
        compare,
    )
}


def summary(module: ModuleType) -> str:
    """First line of a benchmark's docstring."""
    return (module.__doc__ or "").strip().splitlines()[0]


def run_one(name: str, argv: list[str]) -> None:
    """Parse ``argv`` for benchmark ``name`` and run it."""
    module = BENCHMARKS[name]
    parser = argparse.ArgumentParser(
        prog=f"python -m bench {name}",
        description=module.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    start = time.monotonic()
    print(f"== {name}: {summary(module)}", flush=True)
    module.run(args)
    print(f"\n   ({name} took {time.monotonic() - start:.0f} s)", flush=True)


def main(argv: list[str]) -> int:
    """Entry point."""
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv and argv[0] in ("list", "all") or not argv:
        print("Benchmarks (python -m bench <name> --help for options):")
        for name, module in BENCHMARKS.items():
            print(f"  {name:<20} {summary(module)}")
        if argv and argv[0] == "list":
            return 0
        print(flush=True)
        for name in BENCHMARKS:
            run_one(name, [])
            print(flush=True)
        return 0
    if argv[0] not in BENCHMARKS:
        print(f"unknown benchmark {argv[0]!r}; one of: {', '.join(BENCHMARKS)}")
        return 2
    run_one(argv[0], argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
