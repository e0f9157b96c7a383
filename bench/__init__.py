"""Switchboard benchmarks: ``python -m bench`` runs them all (small sizes).

Each benchmark starts real server processes on 127.0.0.1, prints a table and
appends JSON lines to ``bench/results/<name>.jsonl``. See docs/performance.md.
"""
