"""Disconnect clients that do not read: their outgoing queue keeps growing.

A client that stops reading (stalled tab, broken proxy) would otherwise make the
server buffer every event for it until the heartbeat gives up. Every
SLOW_CLIENT_CHECK_INTERVAL seconds each engine.io connection's send queue is read
(packets and bytes, both kept as running counts); one over
SLOW_CLIENT_QUEUE_LIMIT packets or SLOW_CLIENT_QUEUE_BYTES bytes on two checks in
a row is closed, its TCP connection included. It can reconnect and resume with
``last_event_id``, so nothing persisted is lost.

The queue is what waits behind the batch engine.io's websocket writer is already
sending, so a client is dropped once that much more has piled up.
"""

from __future__ import annotations

import logging

from flask import Flask

from webapp import metrics
from webapp.engine.sockets import backlogs, close_transport
from webapp.extensions import get_socketio

logger = logging.getLogger(__name__)

Backlog = tuple[int, int]  # (packets, bytes) waiting to be sent


def find_slow_consumers(
    backlogs: dict[str, Backlog], limits: Backlog, suspects: set[str]
) -> tuple[set[str], set[str]]:
    """Split connections over either limit into (close now, watch next time).

    A connection is closed only when it was already over a limit last time.
    """
    max_packets, max_bytes = limits
    over = {
        sid
        for sid, (packets, size) in backlogs.items()
        if packets > max_packets or size > max_bytes
    }
    return over & suspects, over - suspects


def start_slow_consumer_watch(app: Flask) -> None:
    """Run the check in a background task of the serving process."""
    sio = get_socketio(app)
    interval = app.config["SLOW_CLIENT_CHECK_INTERVAL"]
    limits = (
        app.config["SLOW_CLIENT_QUEUE_LIMIT"],
        app.config["SLOW_CLIENT_QUEUE_BYTES"],
    )

    def loop() -> None:
        suspects: set[str] = set()
        while True:
            sio.sleep(interval)
            try:
                queued = backlogs(sio)
                to_close, suspects = find_slow_consumers(queued, limits, suspects)
                for eio_sid in to_close:
                    packets, size = queued[eio_sid]
                    logger.warning(
                        "closing %s: %d packets (%d bytes) queued, the client is "
                        "not reading",
                        eio_sid,
                        packets,
                        size,
                    )
                    metrics.SLOW_CONSUMERS_CLOSED.inc()
                    close_transport(sio, eio_sid)
            except Exception:  # never let the watch die
                logger.exception("slow-consumer check failed")

    sio.start_background_task(loop)
