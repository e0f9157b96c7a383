"""Fan-out delivery: write an emitted packet straight into idle websockets.

Stock python-engineio hands every packet for every recipient to that connection's
queue and wakes its writer greenthread, which frames and writes it: a queue put, a
hub timer and two context switches per recipient per event, most of the fan-out
cost. Here, when a websocket connection has nothing queued and its writer is not in
the middle of a write, the emitting greenthread writes the frame itself with one
non-blocking ``send``; the frame is built once per emitted packet and reused for
every recipient. Anything else takes the stock path, so order is kept:

- something is queued, or the writer is writing: the packet is queued behind it;
- the kernel takes only part of the frame (a slow reader): the rest is queued as a
  ``PendingFrame`` and the writer finishes it, so a slow client never blocks the
  emitting greenthread and its queue grows as before (slow-consumer check);
- long-polling, an upgrade in progress, a compressed websocket (its frames depend
  on per-connection deflate state), threading mode: stock path.

Everything here depends on private internals (mirrored in docs/profiles/fanout.md;
``transport.py`` and ``lean.py`` use some of them too; tests/unit/test_engine_hooks.py
checks them all at the pinned versions):

- ``socketio.Server._send_eio_packet`` (replaced on the instance; the one call
  ``Manager.emit`` makes per recipient);
- ``engineio.Server._async["websocket"]`` (the websocket driver factory, wrapped)
  and the bound ``engineio.socket.Socket._websocket_handler`` it receives;
- ``engineio.socket.Socket`` attributes ``queue``, ``closed``, ``closing``,
  ``upgraded``, ``upgrading`` and ``check_ping_timeout()``;
- eventlet: ``RFC6455WebSocket.socket`` (a ``GreenSocket``), its ``fd``, and
  ``_sendlock`` (held while the reader sends a pong or a close frame);
- gevent: engine.io's ``SimpleWebSocketWSGI.ws`` (a ``simple_websocket.Server``),
  its ``sock`` and gevent's ``socket._sock``.
"""

from __future__ import annotations

import _socket
import logging
import types
from typing import Any

import socketio
from engineio.socket import Socket as EngineSocket

from webapp import metrics
from webapp.engine.frames import PendingFrame, frame_of, websocket_frame

logger = logging.getLogger(__name__)

# Async modes whose greenthreads only switch at I/O: a check-then-write on one
# connection cannot be interleaved with another greenthread's write.
COOPERATIVE_MODES = ("eventlet", "gevent")


class DirectLink:
    """One websocket connection that may be written to directly."""

    __slots__ = ("socket", "green", "raw", "busy", "send_lock")

    def __init__(
        self, socket: EngineSocket, green: Any, raw: Any, send_lock: Any = None
    ) -> None:
        self.socket = socket
        self.green = green  # the cooperative socket (blocking writes yield)
        self.raw = raw  # the same connection's non-blocking OS socket
        self.busy = False  # the writer greenthread is inside a write
        # eventlet's websocket lock: its reader greenthread answers pings and sends
        # close frames under it, and a partial write of those yields mid-frame.
        self.send_lock = send_lock

    def write(self, pkt: Any) -> bool:
        """Write ``pkt`` now if nothing is ahead of it; False: take the stock path."""
        sock = self.socket
        lock = self.send_lock
        if (
            self.busy
            or (lock is not None and lock.locked())
            or sock.closed
            or sock.closing
            or sock.upgrading
            or not sock.upgraded
            or sock.queue.qsize()
        ):
            return False
        if not sock.check_ping_timeout():
            return True  # closed for a missed pong; stock drops the packet too
        frame = websocket_frame(pkt)
        try:
            sent = self.raw.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            return False  # let engine.io's own path see the broken connection
        if sent < len(frame):
            metrics.FANOUT_WRITES.partial += 1
            sock.queue.put(PendingFrame(frame[sent:]))
        return True


class GuardedWebSocket:
    """The websocket engine.io's writer uses: marks the link busy during a write.

    It frames and writes with ``sendall`` itself (linked connections are never
    compressed): simple-websocket writes with a single ``send``, which under
    gevent drops the tail of a frame a slow reader's socket cannot take.
    """

    __slots__ = ("_ws", "_link")

    def __init__(self, ws: Any, link: DirectLink) -> None:
        self._ws = ws
        self._link = link

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    def send(self, message: Any) -> Any:
        """Send through the websocket, or finish a ``PendingFrame`` raw."""
        link = self._link
        lock = link.send_lock
        link.busy = True
        if lock is not None:
            lock.acquire()  # never splice a frame into the reader's pong or close
        try:
            if isinstance(message, PendingFrame):
                return link.green.sendall(message)
            return link.green.sendall(frame_of(message))
        finally:
            if lock is not None:
                lock.release()
            link.busy = False


def unwrap(ws: Any) -> Any:
    """The library websocket under any ``_ws``-style wrappers."""
    seen = 0
    while hasattr(ws, "__dict__") and "_ws" in vars(ws) and seen < 5:
        ws = vars(ws)["_ws"]
        seen += 1
    return ws


def raw_sockets(ws: Any) -> tuple[Any, Any] | None:
    """(cooperative socket, non-blocking OS socket) of a library websocket."""
    inner = unwrap(ws)
    green = getattr(inner, "socket", None)  # eventlet RFC6455WebSocket
    raw = getattr(green, "fd", None)
    if raw is None:
        server = getattr(inner, "ws", None)  # engine.io's simple-websocket wrapper
        green = getattr(server, "sock", None)
        raw = getattr(green, "_sock", None)
    if green is None or not isinstance(raw, _socket.socket):
        return None
    if raw.gettimeout() != 0.0:
        return None  # a blocking OS socket would stall the emitting greenthread
    return green, raw


class DirectDelivery:
    """The registry of direct links, and the replacement ``_send_eio_packet``."""

    def __init__(self, sio: socketio.Server) -> None:
        self.sio = sio
        self.links: dict[str, DirectLink] = {}
        self.stock_send = sio._send_eio_packet
        self.counts = metrics.FANOUT_WRITES

    def send_eio_packet(self, eio_sid: str, pkt: Any) -> None:
        """Deliver one engine.io packet: directly when possible, else queued."""
        link = self.links.get(eio_sid)
        if link is not None and link.write(pkt):
            self.counts.direct += 1
            return
        self.counts.queued += 1
        self.stock_send(eio_sid, pkt)

    def wrap_websocket_driver(self, factory: Any) -> Any:
        """Wrap engine.io's websocket factory so each websocket gets a link."""

        def websocket(handler: Any, server: Any) -> Any:
            owner = getattr(handler, "__self__", None)
            if not isinstance(owner, EngineSocket):
                return factory(handler, server)  # not engine.io's own handler
            return LinkedWebSocketApp(self, owner, handler, factory, server)

        return websocket


class LinkedWebSocketApp:
    """The websocket WSGI app for one engine.io socket, with a direct link.

    Both eventlet and simple-websocket accept permessage-deflate whenever the
    client offers it; such a connection's frames depend on its own compressor,
    so it keeps the stock path.
    """

    __slots__ = ("delivery", "owner", "handler", "app", "compressed")

    def __init__(
        self,
        delivery: DirectDelivery,
        owner: EngineSocket,
        handler: Any,
        factory: Any,
        server: Any,
    ) -> None:
        self.delivery = delivery
        self.owner = owner
        self.handler = handler

        # Inner wrappers (the edge checks of engine/transport.py) find engine.io's
        # socket as the handler's ``__self__``: hand them a method bound to it.
        def serve(_owner: EngineSocket, ws: Any) -> Any:
            return self.serve(ws)

        self.app = factory(types.MethodType(serve, owner), server)
        self.compressed = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Note a deflate offer, then serve the websocket."""
        offer = environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS", "")
        self.compressed = "permessage-deflate" in offer
        return self.app(environ, start_response)

    def serve(self, ws: Any) -> Any:
        """Run engine.io's websocket handler with a direct link registered."""
        found = None if self.compressed else raw_sockets(ws)
        if found is None:
            return self.handler(ws)
        links = self.delivery.links
        sid = self.owner.sid
        link = DirectLink(self.owner, *found, getattr(unwrap(ws), "_sendlock", None))
        links[sid] = link
        try:
            return self.handler(GuardedWebSocket(ws, link))
        finally:
            if links.get(sid) is link:
                del links[sid]


def tune_delivery(sio: socketio.Server) -> DirectDelivery | None:
    """Switch ``sio`` to direct websocket writes (eventlet and gevent only).

    Call it after any other wrapping of the websocket driver, so the handler it
    sees is engine.io's own.
    """
    if sio.async_mode not in COOPERATIVE_MODES:
        return None
    drivers = sio.eio._async
    if drivers.get("websocket") is None:
        return None
    delivery = DirectDelivery(sio)
    sio.eio._async = {
        **drivers,
        "websocket": delivery.wrap_websocket_driver(drivers["websocket"]),
    }
    sio._send_eio_packet = delivery.send_eio_packet  # type: ignore[method-assign]
    return delivery
