"""Full garbage collections on a timer, for a process holding many connections.

CPython runs a full collection whenever the objects promoted since the last one
reach a quarter of those that survived it. Each open connection keeps about a
thousand tracked objects (greenlets and their frames, sockets, queues), so in a
connect storm a full pass rescans every live connection every few hundred
connects: ~0.4 ms of CPU per connect at 2,000 connections, and the hub stops for
0.2-0.4 s each time (docs/profiles/connect.md). The server turns the automatic
full passes off and runs one every ``FULL_COLLECTION_INTERVAL`` seconds instead;
generations 0 and 1 stay automatic, so short-lived cycles are freed as before.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

logger = logging.getLogger(__name__)

# Seconds between full collections: cyclic garbage that outlived generation 1
# (a closed connection's, mostly) waits at most this long.
FULL_COLLECTION_INTERVAL = 10.0
# A generation-2 threshold never reached: no automatic full collection.
NEVER = 1 << 30


def start_full_collections(
    sio: Any, interval: float = FULL_COLLECTION_INTERVAL
) -> None:
    """Replace automatic full collections by one every ``interval`` seconds."""
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    sio.start_background_task(_collect_every, sio, interval)


def _collect_every(sio: Any, interval: float) -> None:
    while True:
        sio.sleep(interval)
        try:
            gc.collect()
        except Exception:  # never let the collector task die
            logger.exception("full garbage collection failed")
