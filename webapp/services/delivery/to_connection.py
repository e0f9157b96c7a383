"""Sending to, and closing, one connection: welcome, snapshots, replayed events.

A connection on this process is served directly (never reordered behind queue
traffic); one elsewhere in the cluster goes through the message queue.
"""

from __future__ import annotations

import logging
from typing import Any

from webapp.engine.sockets import is_local, send_local
from webapp.extensions import get_socketio
from webapp.services.cluster.message_queue import MessageQueueUnavailable

logger = logging.getLogger(__name__)


def send_to_connection(sid: str, namespace: str, event: str, data: Any) -> None:
    """Emit a server message (welcome, snapshot, ...) to one connection.

    Delivered locally when the connection is on this process, so it can never be
    reordered behind queue traffic; otherwise through the queue.
    """
    sio = get_socketio()
    if is_local(sio.manager, sid, namespace):
        send_local(sio.manager, sid, namespace, event, data)
    else:
        sio.emit(event, data, to=sid, namespace=namespace)


def send_replayed(
    manager: Any, sid: str, namespace: str, envelope: dict[str, Any]
) -> None:
    """Send one replayed persisted event, marked ``replayed: true``."""
    send_local(
        manager, sid, namespace, envelope["type"], {**envelope, "replayed": True}
    )


def send_live(
    manager: Any, sid: str, namespace: str, event: str, envelope: dict[str, Any]
) -> None:
    """Send a live event that the replay gate held back."""
    send_local(manager, sid, namespace, event, envelope)


def enter_room_for_tenant_connections(home_tenant_id: int, room: str) -> int:
    """Put every live connection of a tenant's users into ``room`` (cluster-wide).

    Used when an MSP gains a client tenant: its staff, already connected, start
    receiving that tenant's events without reconnecting. Returns how many.
    """
    from webapp.services.cluster import connections

    sio = get_socketio()
    entered = 0
    try:
        for info in connections.registry().all():
            if info.tenant_id == home_tenant_id:
                sio.enter_room(info.sid, room, namespace=info.namespace)
                entered += 1
    except MessageQueueUnavailable:
        # The tenant exists already; its staff see it when they next connect.
        logger.warning("message queue down: staff join %s on reconnect", room)
    return entered


def disconnect_connection(sid: str, namespace: str) -> None:
    """Close one namespace connection, on whichever process holds it."""
    if is_local(get_socketio().manager, sid, namespace):
        get_socketio().disconnect(sid, namespace=namespace, ignore_queue=True)
        return
    try:
        get_socketio().disconnect(sid, namespace=namespace)
    except MessageQueueUnavailable:
        logger.warning("message queue down: cannot disconnect remote %s", sid)
