"""The connect path's process set-up and websocket unmasking."""

from __future__ import annotations

import json
import random
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import websocket

from tests.support.engagement import new_session
from tests.support.server import PYTHON, ROOT, base_env
from tests.support.sockets import SocketFactory
from tests.support.world import World
from webapp.engine.websocket import BufferedReads, apply_mask


def test_the_server_entry_point_freezes_what_start_up_loaded(tmp_path: Path) -> None:
    # A full collection must not rescan the whole app on every few hundred
    # connects: wsgi.py moves the start-up heap out of the collector's reach.
    env = base_env(
        f"sqlite:///{tmp_path}/freeze.db", {"SOCKETIO_ASYNC_MODE": "threading"}
    )
    script = "import gc, wsgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [PYTHON, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) > 10_000


def _reference(data: bytes, mask: Any, length: int | None, offset: int) -> bytes:
    """RFC 6455 5.3, byte by byte (what eventlet's ``_apply_mask`` does)."""
    size = len(data) if length is None else length
    return bytes(data[i] ^ mask[(offset + i) % 4] for i in range(size))


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 125, 126, 4097, 70_000])
def test_apply_mask_unmasks_as_rfc_6455_says(length: int) -> None:
    rng = random.Random(length)
    data = bytes(rng.randrange(256) for _ in range(length + 3))
    mask = bytes(rng.randrange(256) for _ in range(4))
    for offset in range(5):
        for size in (None, length):
            expected = _reference(data, mask, size, offset)
            assert apply_mask(data, mask, size, offset) == expected
        # eventlet's client side passes the mask as a list of ints.
        assert apply_mask(data, list(mask), length, offset) == (
            _reference(data, list(mask), length, offset)
        )


def test_a_large_multibyte_message_arrives_intact(
    world: World, sockets: SocketFactory
) -> None:
    # 4,000 characters of 1 to 4 UTF-8 bytes: a frame with a 16-bit length,
    # unmasked on the server, re-encoded and delivered to another member.
    session = new_session(world, world.msp_user, tenant_id=world.tenant_a["id"])
    writer = sockets().connect(world.url, world.msp_user.access_token, ["/engagement"])
    reader = sockets().connect(world.url, world.user_a.access_token, ["/engagement"])
    for client in (writer, reader):
        assert client.call("join_session", {"session_id": session["id"]})["ok"]
    alphabet = 'aé€😀\\"\n'
    text = "".join(random.Random(7).choice(alphabet) for _ in range(3999)) + "z"
    sent = writer.call("send_message", {"session_id": session["id"], "text": text})
    assert sent["ok"] is True
    message = reader.wait_for("session_message", lambda m: m["id"] == sent["id"])[-1]
    assert json.dumps(message["data"]["text"]) == json.dumps(text)


COLLECTOR_SCRIPT = """
import gc, time, socketio
from webapp.realtime.collector import NEVER, start_full_collections
sio = socketio.Server(async_mode="threading")
before = gc.get_stats()[2]["collections"]
start_full_collections(sio, interval=0.05)
time.sleep(1.0)
print(gc.get_threshold()[2] == NEVER, gc.get_stats()[2]["collections"] - before)
"""


def test_full_collections_run_on_a_timer_not_on_allocation_counts() -> None:
    result = subprocess.run(
        [PYTHON, "-c", COLLECTOR_SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    automatic_off, collections = result.stdout.split()
    assert automatic_off == "True"
    assert int(collections) >= 3  # about one per 0.05 s; never none


def test_buffered_reads_return_the_stream_in_order_then_the_end() -> None:
    left, right = socket.socketpair()
    try:
        stream = bytes(range(256)) * 600  # more than one read-ahead
        right.sendall(stream)
        right.close()
        reader = BufferedReads(left)
        received = b""
        sizes = [2, 4, 1, 126, 70_000, 3]
        while True:
            chunk = reader.recv(sizes[len(received) % len(sizes)])
            if not chunk:
                break
            received += chunk
        assert received == stream
        assert reader.recv(10) == b""
    finally:
        left.close()


def test_many_frames_in_one_write_are_each_answered_in_order(world: World) -> None:
    url = (
        world.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    )
    raw = websocket.create_connection(url, timeout=10)
    try:
        assert raw.recv().startswith("0{")
        auth = json.dumps({"token": world.user_a.access_token})
        raw.send(f"40/dashboard,{auth}")
        frames = [
            websocket.ABNF.create_frame(f'42/dashboard,{n}["ping"]', 0x1).format()
            for n in range(300)
        ]
        raw.sock.sendall(b"".join(frames))  # one write: the server reads ahead
        acks = []
        while len(acks) < 300:
            frame = raw.recv()
            if frame.startswith("43/dashboard,"):
                acks.append(int(frame[len("43/dashboard,") : frame.index("[")]))
    finally:
        raw.close()
    assert acks == list(range(300))
