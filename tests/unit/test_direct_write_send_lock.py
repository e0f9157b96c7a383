"""A direct write never splices a frame into one the websocket's reader is sending.

eventlet's websocket answers pings and sends close frames from its reader
greenthread under a send lock; a partial write of such a frame yields with the lock
held. While it is held, the fan-out path must leave the packet to engine.io's queue.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from engineio import packet as eio_packet

from webapp.engine.delivery import DirectLink
from webapp.engine.frames import websocket_frame


class Session:
    """The engine.io session attributes ``DirectLink.write`` reads."""

    closed = closing = upgrading = False
    upgraded = True

    def __init__(self) -> None:
        import queue

        self.queue: Any = queue.Queue()

    def check_ping_timeout(self) -> bool:
        return True


def test_a_held_send_lock_sends_the_packet_the_stock_way() -> None:
    server_end, client_end = socket.socketpair()
    server_end.setblocking(False)
    lock = threading.Lock()
    link = DirectLink(Session(), server_end, server_end, lock)  # type: ignore[arg-type]
    packet = eio_packet.Packet(eio_packet.MESSAGE, data='2["alert",{"id":1}]')
    try:
        with lock:  # the reader is half-way through a pong
            assert link.write(packet) is False
        client_end.setblocking(False)
        try:
            assert client_end.recv(100) == b""
        except BlockingIOError:
            pass  # nothing was written: the packet waits for the queue
        assert link.write(packet) is True  # lock free: written directly
        client_end.setblocking(True)
        assert client_end.recv(100) == websocket_frame(packet)
    finally:
        server_end.close()
        client_end.close()
