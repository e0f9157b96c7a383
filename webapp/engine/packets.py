"""What a client may send at the engine.io level: packet and polling-payload checks.

Pure functions over the encoded text: python-engineio would otherwise decode a
packet that is not one (a traceback, or silence) and json-decode a Socket.IO
packet unbounded in depth.
"""

from __future__ import annotations

import base64
import binascii

# Engine.IO packets a client may send: CLOSE, PING and PONG ("probe" during an
# upgrade), MESSAGE, UPGRADE. Anything else (OPEN, NOOP, "9", text) is refused.
BARE_CLIENT_PACKETS = frozenset({"1", "2", "3", "5", "2probe", "3probe"})


# A text MESSAGE carries a Socket.IO packet, which starts with its type digit.
# (python-engineio would otherwise json-decode the rest, unbounded in depth.)
SOCKETIO_PACKET_TYPES = frozenset("0123456")


# python-engineio decodes at most this many packets per polling POST.
MAX_PACKETS_PER_POST = 16


def packet_problem(encoded: str) -> str | None:
    """Why an encoded text packet is not one a client may send, else ``None``."""
    if encoded[:1] == "4":
        if encoded[1:2] and encoded[1] in SOCKETIO_PACKET_TYPES:
            return None
        return "not a Socket.IO packet"
    if encoded in BARE_CLIENT_PACKETS:
        return None
    return f"unknown engine.io packet type {encoded[:1]!r}"


def payload_problem(body: bytes) -> str | None:
    """Why a long-polling POST body is not a valid client payload, else ``None``."""
    if not body:
        return None  # python-engineio reads an empty body as no packets
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "a payload that is not UTF-8"
    encoded_packets = text.split("\x1e")
    if len(encoded_packets) > MAX_PACKETS_PER_POST:
        return f"more than {MAX_PACKETS_PER_POST} packets in one payload"
    for encoded in encoded_packets:
        if encoded.startswith("b"):  # a base64 binary attachment
            try:
                base64.b64decode(encoded[1:], validate=True)
            except binascii.Error:
                return "a binary packet that is not base64"
            continue
        problem = packet_problem(encoded)
        if problem is not None:
            return problem
    return None
