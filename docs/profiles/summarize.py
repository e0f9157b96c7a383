"""Summarise a py-spy ``--format raw`` profile: inclusive share of chosen frames.

    python docs/profiles/summarize.py /tmp/profile.txt [substring ...]
    python docs/profiles/summarize.py --buckets /tmp/profile.txt
Without substrings it prints the 40 functions with the largest inclusive share;
``--buckets`` sorts every sample into one step of the publish request.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "publish-path/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


# First match wins, so the order goes from the innermost step outwards.
BUCKETS = [
    ("database commit", ("do_commit",)),
    ("ordering lock", ("pg_advisory", "ordering (", "ordered_publish")),
    ("API key / token -> identity", ("identity_from_api_key", "_identity_from_jwt")),
    ("emit (socket.io / Redis)", ("emit_envelope", "Server.emit")),
    (
        "persist (insert, idempotency lookup)",
        (
            "persist_group",
            "_persist",
            "deliver_many",
            "_deliver_one_locked",
            "_find_idempotent",
        ),
    ),
    ("validate (target, schema, depth)", ("prepare (", "publish_to_room")),
    ("parse body (JSON, pydantic)", ("parse_body", "get_json")),
    ("write the HTTP response", ("SocketIO.write", "GreenSocket.send")),
    ("read/parse the HTTP request", ("_read_request_line", "parse_request")),
    ("Flask/WSGI/eventlet other", ("",)),
]


def buckets(path: str) -> None:
    """Print the share of samples per publish step."""
    counts: Counter[str] = Counter()
    total = 0
    for line in open(path, encoding="utf-8"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        total += int(count)
        for name, needles in BUCKETS:
            if any(needle in stack for needle in needles):
                counts[name] += int(count)
                break
    print(f"{total} samples")
    for name, _needles in BUCKETS:
        print(f"{100 * counts[name] / total:5.1f}%  {name}")


def main() -> None:
    """Print inclusive shares."""
    if sys.argv[1] == "--buckets":
        buckets(sys.argv[2])
        return
    path, wanted = sys.argv[1], sys.argv[2:]
    inclusive: Counter[str] = Counter()
    total = 0
    for line in open(path, encoding="utf-8"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        n = int(count)
        total += n
        for name in {_name(frame) for frame in stack.split(";")}:
            inclusive[name] += n
    rows = (
        [(k, v) for k, v in inclusive.items() if any(w in k for w in wanted)]
        if wanted
        else inclusive.most_common(40)
    )
    print(f"{total} samples")
    for name, n in sorted(rows, key=lambda kv: -kv[1]):
        print(f"{100 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
