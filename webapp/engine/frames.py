"""Websocket frames built once per emitted packet, and the rest of a partial write.

A packet's frame is the same for every recipient: built once (``websocket_frame``,
cached on the packet) and written to each idle websocket as is; when the kernel
takes only part of it, the rest waits in the queue as a ``PendingFrame``.
"""

from __future__ import annotations

import struct
from typing import Any

from engineio import packet as eio_packet


class PendingFrame(bytes):
    """The unsent tail of a directly written frame, queued for the writer.

    Shaped like an engine.io packet (``packet_type``, ``data``, ``encode()``) so
    the writer's loop and anything measuring the queue handle it unchanged.
    """

    packet_type = eio_packet.MESSAGE
    binary = True

    @property
    def data(self) -> bytes:
        """The raw bytes still to write."""
        return bytes(self)

    def encode(self, b64: bool = False) -> PendingFrame:
        """Itself: ``GuardedWebSocket.send`` writes it as raw bytes."""
        return self


def frame_of(message: str | bytes) -> bytes:
    """The unmasked, uncompressed websocket frame carrying ``message``."""
    if isinstance(message, str):
        payload, opcode = message.encode("utf-8"), 0x81  # FIN + text
    else:
        payload, opcode = bytes(message), 0x82  # FIN + binary
    size = len(payload)
    if size < 126:
        header = bytes((opcode, size))
    elif size < 65536:
        header = struct.pack("!BBH", opcode, 126, size)
    else:
        header = struct.pack("!BBQ", opcode, 127, size)
    return header + payload


def websocket_frame(pkt: Any) -> bytes:
    """The frame for an engine.io packet, cached on the packet.

    Every recipient of one emit gets the same packet object, so the frame is
    built once per emit.
    """
    frame: bytes | None = getattr(pkt, "_switchboard_frame", None)
    if frame is None:
        frame = frame_of(pkt.encode())
        pkt._switchboard_frame = frame
    return frame
