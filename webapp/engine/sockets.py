"""What the rest of Switchboard may ask about a connection, without library internals.

Services and namespaces call these instead of reaching into python-socketio's
client manager or python-engineio's sessions: whether a connection is on this
process, its outgoing queue, closing its transport, sending to it alone.
"""

from __future__ import annotations

from typing import Any

import socketio


def is_connected(manager: socketio.Manager, sid: str, namespace: str) -> bool:
    """True while connection ``sid`` is connected to ``namespace`` on this process."""
    return bool(manager.is_connected(sid, namespace))


def sid_of_transport(
    manager: socketio.Manager, eio_sid: str, namespace: str
) -> str | None:
    """The Socket.IO sid of transport ``eio_sid`` in ``namespace`` (None: none)."""
    sid = manager.sid_from_eio_sid(eio_sid, namespace)
    return None if sid is None else str(sid)


def is_local(manager: socketio.Manager, sid: str, namespace: str) -> bool:
    """True when connection ``sid`` (connected or connecting) is on this process."""
    # ``is_pre_connected``: a connection whose CONNECT is still being handled.
    return bool(
        manager.is_connected(sid, namespace) or manager.is_pre_connected(sid, namespace)
    )


def send_local(
    manager: socketio.Manager, sid: str, namespace: str, event: str, data: Any
) -> None:
    """Deliver straight to a connection of this process, bypassing queue and gate."""
    # The base class's emit: the subclasses' overrides are the queue and the gate.
    socketio.Manager.emit(manager, event, data, namespace, room=sid)


def queued_packets(sio: socketio.Server, sid: str, namespace: str) -> int | None:
    """Packets waiting in a local connection's send queue; None once it is gone."""
    try:
        eio_sid = sio.manager.eio_sid_from_sid(sid, namespace)
        # python-engineio has no public accessor for a session's send queue.
        session = sio.eio._get_socket(eio_sid)
    except KeyError:
        return None
    if session.closed:
        return None
    return int(session.queue.qsize())


def backlogs(sio: socketio.Server) -> dict[str, tuple[int, int]]:
    """Unsent (packets, bytes) of every open transport of this process."""
    return dict(sio.eio.backlogs())  # EdgeEngineIO (transport.py)


def close_transport(sio: socketio.Server, eio_sid: str) -> None:
    """Close a transport at once, its TCP connection included."""
    sio.eio.drop(eio_sid)  # EdgeEngineIO (transport.py)
