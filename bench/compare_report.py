"""Before/after table of two ``python -m bench compare`` runs.

    python -m bench.compare_report             # baseline vs the last --full run
    python -m bench.compare_report --sizes small   # the same for `make bench`
    python -m bench.compare_report --list      # the runs in a file
    python -m bench.compare_report --before FILE[:RUN] --after FILE[:RUN]

The baseline is bench/baselines/compare-e45817c.jsonl (a ``--full`` and a small
run on main e45817c, before the capacity work); the after run is the newest run
of the same sizes in bench/results/compare.jsonl. For every figure: Switchboard
before and after, after/before, and the Switchboard/Node ratio of each run (Node
is re-measured in every run, so the ratio is the figure that survives a
different machine load).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, RESULTS_DIR, print_table
from bench.compare import COMPARED

BASELINE = BENCH_DIR / "baselines" / "compare-e45817c.jsonl"
RESULTS = RESULTS_DIR / "compare.jsonl"
# Switchboard-only rows: (scenario prefix, metric, label).
SWITCHBOARD_ONLY = (
    ("publish", "events_per_s", "events/s"),
    ("publish", "cpu_ms_per_event", "CPU ms/event"),
    ("cluster", "events_per_s", "events/s"),
    ("cluster", "cpu_ms_per_event", "CPU ms/event"),
    ("refusal_flood", "health_p50_ms", "/health p50 ms"),
    ("refusal_flood", "health_p99_ms", "/health p99 ms"),
    ("refusal_flood", "health_max_ms", "/health max ms"),
    ("refusal_flood", "cpu_ms_per_attempt", "CPU ms/attempt"),
)

Run = dict[tuple[str, str], dict[str, Any]]  # (scenario, target) -> row


def read_runs(path: Path) -> dict[str, Run]:
    """The runs in a compare.jsonl file, by run id, oldest first."""
    runs: dict[str, Run] = defaultdict(dict)
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if "run" in row:
            runs[row["run"]][(row["scenario"], row["target"])] = row
    return dict(runs)


def pick(spec: str | None, default: Path, sizes: str) -> tuple[str, Run]:
    """``FILE[:RUN]`` (default file; its newest run of ``sizes``) -> (id, run)."""
    path, run_id = default, None
    if spec:
        path_text, _, run_id = spec.partition(":")
        path = Path(path_text)
    if not path.is_file():
        raise SystemExit(f"{path}: no such file (run python -m bench compare --full)")
    runs = read_runs(path)
    if run_id:
        return run_id, runs[run_id]
    found = [k for k, run in runs.items() if next(iter(run.values()))["sizes"] == sizes]
    if not found:
        raise SystemExit(f"no {sizes} run in {path}")
    return found[-1], runs[found[-1]]


def cell(value: Any) -> Any:
    """Small floats with three significant digits (0.186, not 0.2)."""
    if isinstance(value, float) and abs(value) < 10:
        return f"{value:.3g}"
    return value


def ratio(a: float | None, b: float | None) -> str:
    """``a / b`` with two decimals, ``-`` when undefined."""
    if a is None or not b:
        return "-"
    return f"{a / b:.2f}"


def compared_rows(before: Run, after: Run) -> list[list[Any]]:
    """Rows for the figures measured on both servers."""

    def value(run: Run, scenario: str, target: str, metric: str) -> Any:
        return run.get((scenario, target), {}).get(metric)

    table = []
    scenarios = dict.fromkeys(s for s, t in (*before, *after) if t == "switchboard")
    for scenario in scenarios:
        for prefix, metric, label, _higher in COMPARED:
            if not scenario.startswith(prefix):
                continue
            b = value(before, scenario, "switchboard", metric)
            a = value(after, scenario, "switchboard", metric)
            table.append(
                [
                    scenario,
                    label,
                    "-" if b is None else cell(b),
                    "-" if a is None else cell(a),
                    ratio(a, b),
                    ratio(b, value(before, scenario, "node", metric)),
                    ratio(a, value(after, scenario, "node", metric)),
                ]
            )
    return table


def switchboard_rows(before: Run, after: Run) -> list[list[Any]]:
    """Rows for the Switchboard-only figures."""
    table = []
    scenarios = dict.fromkeys(s for s, t in (*before, *after) if t == "switchboard")
    for scenario in scenarios:
        for prefix, metric, label in SWITCHBOARD_ONLY:
            if not scenario.startswith(prefix):
                continue
            b = before.get((scenario, "switchboard"), {}).get(metric)
            a = after.get((scenario, "switchboard"), {}).get(metric)
            table.append(
                [
                    scenario,
                    label,
                    "-" if b is None else cell(b),
                    "-" if a is None else cell(a),
                    ratio(a, b),
                ]
            )
    return table


def main(argv: list[str]) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare_report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--before", help=f"FILE[:RUN] (default {BASELINE})")
    parser.add_argument("--after", help=f"FILE[:RUN] (default {RESULTS})")
    parser.add_argument("--list", metavar="FILE", nargs="?", const=str(RESULTS))
    parser.add_argument(
        "--sizes",
        choices=["full", "small"],
        default="full",
        help="which runs to pick by default (small: make bench without --full)",
    )
    args = parser.parse_args(argv)
    if args.list:
        for run_id, run in read_runs(Path(args.list)).items():
            first = next(iter(run.values()))
            print(
                f"{run_id}  {first['sizes']:<5}  commit {first['commit']}"
                f"  load {first['load']}  rows {len(run)}"
            )
        return 0
    before_id, before = pick(args.before, BASELINE, args.sizes)
    after_id, after = pick(args.after, RESULTS, args.sizes)
    for label, run_id, run in (
        ("before", before_id, before),
        ("after", after_id, after),
    ):
        first = next(iter(run.values()))
        print(f"{label}: run {run_id}, commit {first['commit']}, load {first['load']}")
    print_table(
        "Switchboard before and after; SB/Node within each run",
        [
            "scenario",
            "metric",
            "before",
            "after",
            "after/before",
            "SB/Node before",
            "SB/Node after",
        ],
        compared_rows(before, after),
    )
    print_table(
        "Switchboard only",
        ["scenario", "metric", "before", "after", "after/before"],
        switchboard_rows(before, after),
    )
    cluster = [
        (
            run.get(("cluster_2_processes", "switchboard")),
            run.get(("cluster_1_process", "switchboard")),
        )
        for run in (before, after)
    ]
    print(
        "\n  2-process cluster / one process: "
        + ", ".join(
            f"{label} {ratio(two['events_per_s'], one['events_per_s'])}"
            for label, (two, one) in zip(("before", "after"), cluster, strict=True)
            if two and one
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
