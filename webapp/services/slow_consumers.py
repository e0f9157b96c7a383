"""Disconnect clients that do not read: their outgoing queue keeps growing.

A client that stops reading (stalled tab, broken proxy) would otherwise make the
server buffer every event for it forever. Every SLOW_CLIENT_CHECK_INTERVAL seconds
each engine.io connection's send queue is measured; one that stays above
SLOW_CLIENT_QUEUE_LIMIT packets on two checks in a row is closed. It can reconnect
and resume with ``last_event_id``, so nothing persisted is lost.
"""

from __future__ import annotations

import logging

from flask import Flask

from webapp import metrics
from webapp.extensions import get_socketio

logger = logging.getLogger(__name__)


def find_slow_consumers(
    queue_sizes: dict[str, int], limit: int, suspects: set[str]
) -> tuple[set[str], set[str]]:
    """Split connections over ``limit`` into (close now, watch next time).

    A connection is closed only when it was already over the limit last time.
    """
    over = {sid for sid, size in queue_sizes.items() if size > limit}
    return over & suspects, over - suspects


def start_slow_consumer_watch(app: Flask) -> None:
    """Run the check in a background task of the serving process."""
    sio = get_socketio(app)
    interval = app.config["SLOW_CLIENT_CHECK_INTERVAL"]
    limit = app.config["SLOW_CLIENT_QUEUE_LIMIT"]

    def loop() -> None:
        suspects: set[str] = set()
        while True:
            sio.sleep(interval)
            # python-engineio keeps its sockets and their send queues privately.
            sizes = {
                eio_sid: socket.queue.qsize()
                for eio_sid, socket in list(sio.eio.sockets.items())
                if not socket.closed
            }
            to_close, suspects = find_slow_consumers(sizes, limit, suspects)
            for eio_sid in to_close:
                logger.warning(
                    "closing %s: %d packets queued, the client is not reading",
                    eio_sid,
                    sizes[eio_sid],
                )
                metrics.SLOW_CONSUMERS_CLOSED.inc()
                try:
                    sio.eio.disconnect(eio_sid)
                except KeyError:
                    pass

    sio.start_background_task(loop)
