"""Idle websocket connections without a writer or ping greenthread.

Stock python-engineio keeps three greenthreads per websocket for its whole life:
the reader (the WSGI request itself), a writer blocked on the send queue and a
ping sleeper. Each parks a saved stack plus its thread, event and timer objects:
about a fifth of an idle connection's memory (docs/profiles/memory.md). Here:

- the ping is a hub timer that starts a greenthread only when it fires (every
  ``ping_interval``), instead of a greenthread sleeping through the interval;
- the writer is started when something is queued and ends once the queue has
  stayed empty for ``WRITER_LINGER`` seconds; fan-out to an idle websocket is
  written directly (``delivery.py``) and never needs it.

Only in eventlet and gevent, whose greenthreads switch at I/O only: deciding
"no writer is running, start one" cannot interleave with a writer deciding to
exit. Threading mode keeps python-engineio's sockets unchanged.

Private internals relied on (python-engineio 4.15.1): ``Server._handle_connect``
(mirrored below: it builds the session, and only the class differs),
``Socket.schedule_ping``/``last_ping`` and ``Socket._websocket_handler`` (mirrored
below except for the writer).
"""

from __future__ import annotations

import functools
import time
from typing import Any

from engineio import exceptions, packet
from engineio.socket import Socket as EngineSocket

from webapp.engine.environ import release_environ
from webapp.engine.transport import EdgeEngineIO

# Seconds a writer waits for more packets before it ends: a burst keeps one
# writer, an idle connection none. Short, because every ping starts a writer: at
# 0.5 s per 25 s ping interval, 2% of idle connections hold one at any time.
WRITER_LINGER = 0.5
COOPERATIVE_MODES = ("eventlet", "gevent")


def call_later(async_mode: str, seconds: float, function: Any) -> None:
    """Run ``function`` in a new greenthread after ``seconds`` (none meanwhile)."""
    if async_mode == "eventlet":
        import eventlet
        from eventlet.hubs import get_hub

        # The timer fires in the hub, which may not block: it only spawns.
        get_hub().schedule_call_global(seconds, eventlet.spawn_n, function)
    else:
        import gevent

        # A greenlet that has not started has no stack yet.
        gevent.spawn_later(seconds, function)


@functools.cache
def waking_queue(base: Any) -> Any:
    """``base`` (the server's queue class) calling ``wake`` after every put."""

    class WakingQueue(base):  # type: ignore[valid-type, misc]
        wake: Any = None  # set while a lean websocket serves this queue

        def put(self, item: Any, block: bool = True, timeout: Any = None) -> Any:
            result = super().put(item, block, timeout)
            wake = self.wake
            if wake is not None:
                wake()
            return result

    return WakingQueue


# python-engineio is untyped: its attributes are whatever it assigns.
StockSocket: Any = EngineSocket


class LeanSocket(StockSocket):
    """An engine.io socket with a timer ping and an on-demand websocket writer."""

    # python-engineio's own state (annotated here: it is untyped).
    last_ping: float | None
    connected: bool

    def __init__(self, server: Any, sid: str) -> None:
        super().__init__(server, sid)
        self._ws: Any = None  # the websocket while this socket is served over one
        self._writer: Any = None  # the running writer task, if any
        self._writer_done = False  # the writer closed the websocket: start no other

    # -------------------------------------------------------------------- ping
    def schedule_ping(self) -> None:
        """Send the next PING after ``ping_interval``, from a timer."""
        if self.last_ping:
            self.last_ping = None
            call_later(
                self.server.async_mode, self.server.ping_interval, self._ping_now
            )

    def _ping_now(self) -> None:
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            self.send(packet.Packet(packet.PING))

    # ------------------------------------------------------------------ writer
    def _wake_writer(self) -> None:
        """Start a writer for what was just queued, unless one runs (or ended)."""
        if self._writer is None and not self._writer_done and self._ws is not None:
            self._writer = self.server.start_background_task(self._write_queued)

    def _write_queued(self) -> None:
        """Write queued packets until the queue stays empty (or the end)."""
        ws, queue = self._ws, self.queue
        empty = self.server.get_queue_empty_exception()
        while True:
            try:
                pkt = queue.get(timeout=WRITER_LINGER)
            except empty:
                if queue.qsize():
                    continue
                self._writer = None  # no switch since get(): no put was missed
                return
            queue.task_done()
            if pkt is None:
                break  # the session closed
            try:
                ws.send(pkt.encode())
            except Exception:  # noqa: BLE001 - as stock: a failed write ends it
                break
        self._writer_done = True
        self._writer = None
        ws.close()

    def _websocket_handler(self, ws: Any) -> Any:
        """python-engineio's websocket handler with an on-demand writer."""

        def websocket_wait() -> Any:
            data = ws.wait()
            if data and len(data) > self.server.max_http_buffer_size:
                raise ValueError("packet is too large")
            return data

        # A read timeout matching the ping interval and timeout (as stock).
        for attr in ["_sock", "socket"]:
            if hasattr(ws, attr) and hasattr(getattr(ws, attr), "settimeout"):
                getattr(ws, attr).settimeout(
                    self.server.ping_interval + self.server.ping_timeout
                )

        if self.connected:
            # An upgrade from long-polling: PING probe, PONG probe, UPGRADE.
            self.upgrading = True  # hold packet sends during the upgrade
            pkt = websocket_wait()
            decoded_pkt = packet.Packet(encoded_packet=pkt)
            if decoded_pkt.packet_type != packet.PING or decoded_pkt.data != "probe":
                self.upgrading = False
                return []
            ws.send(packet.Packet(packet.PONG, data="probe").encode())
            self.queue.put(packet.Packet(packet.NOOP))  # end the pending poll
            pkt = websocket_wait()
            decoded_pkt = packet.Packet(encoded_packet=pkt)
            if decoded_pkt.packet_type != packet.UPGRADE:
                self.upgraded = False
                self.upgrading = False
                return []
            self.upgraded = True
            self.upgrading = False
        else:
            self.connected = True
            self.upgraded = True

        release_environ(getattr(ws, "environ", None))
        self._ws = ws
        self.queue.wake = self._wake_writer
        if self.queue.qsize():
            self._wake_writer()  # OPEN (and anything sent during an upgrade)
        try:
            self._read(websocket_wait)
        finally:
            self.queue.put(None)  # ends the writer (started for it if none runs)
            writer = self._writer
            if writer is not None:
                writer.join()
            self.queue.wake = None  # no socket -> queue -> socket cycle left
        self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        return []

    def _read(self, websocket_wait: Any) -> None:
        """Receive packets until the client goes (python-engineio's reader loop)."""
        while True:
            try:
                p = websocket_wait()
            except Exception:  # noqa: BLE001 - a closed or broken connection
                break
            if p is None:
                break  # closed by the client
            pkt = packet.Packet(encoded_packet=p)
            try:
                self.receive(pkt)
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:  # noqa: BLE001 - log it and end the connection
                self.server.logger.exception("Unknown receive error")
                break


class LeanEngineIO(EdgeEngineIO):
    """``EdgeEngineIO`` whose sessions are ``LeanSocket``s (eventlet and gevent)."""

    start_service_task: bool  # python-engineio's (untyped)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lean = self.async_mode in COOPERATIVE_MODES
        if self.lean:
            self._queue_class = waking_queue(self._queue_class)

    def _handle_connect(
        self,
        environ: dict[str, Any],
        start_response: Any,
        transport: str,
        jsonp_index: Any = None,
    ) -> Any:
        """python-engineio's ``_handle_connect``, building a ``LeanSocket``.

        Built as one from the start: changing an object's class afterwards
        makes every attribute read on it slower (measured ~+10% CPU per
        fan-out delivery), and the delivery path reads several per recipient.
        """
        if not self.lean:
            return super()._handle_connect(
                environ, start_response, transport, jsonp_index
            )
        if self.start_service_task:
            # start the service task to monitor connected clients
            self.start_service_task = False
            self.service_task_handle = self.start_background_task(self._service_task)

        sid = self.generate_id()
        s = LeanSocket(self, sid)
        self.sockets[sid] = s

        pkt = packet.Packet(
            packet.OPEN,
            {
                "sid": sid,
                "upgrades": self._upgrades(sid, transport),
                "pingTimeout": int(self.ping_timeout * 1000),
                "pingInterval": int(
                    self.ping_interval + self.ping_interval_grace_period
                )
                * 1000,
                "maxPayload": self.max_http_buffer_size,
            },
        )
        s.send(pkt)

        ret = self._trigger_event("connect", sid, environ, run_async=False)
        if ret is not None and ret is not True:
            del self.sockets[sid]
            self.logger.warning("Application rejected connection")
            return self._unauthorized(ret or None)

        s.schedule_ping()

        if transport == "websocket":
            ret = s.handle_get_request(environ, start_response)
            if s.closed and sid in self.sockets:
                # websocket connection ended, so we are done
                del self.sockets[sid]
            return ret
        s.connected = True
        headers = None
        if self.cookie:
            if isinstance(self.cookie, dict):
                cookie = self.cookie
            else:
                cookie = {"name": self.cookie, "path": "/", "SameSite": "Lax"}
            headers = [("Set-Cookie", self._generate_sid_cookie(sid, cookie))]
        try:
            return self._ok(s.poll(), headers=headers, jsonp_index=jsonp_index)
        except exceptions.QueueEmpty:
            return self._bad_request()
