"""Tripwires for the library internals Switchboard relies on.

The engine seam (``webapp/engine/``, and the test clients' ordered engine.io
client in ``tests/support/engine_client.py``) overrides, wraps, calls or copies
private parts of python-socketio, python-engineio, eventlet, gevent and
simple-websocket; nothing else may (``test_engine_seam.py``). None of that is a
public API: an upgrade can rename a method, add a parameter to a hook, stop
calling it, or change code we copied, and the server would keep importing and
then misbehave under load. This module checks, in-process and in well under a
second, that every such internal still looks exactly the way the code expects:

- ``Has``: the name exists; for a function, its parameter names (all of them for
  a hook we override, the leading ones for a function we call);
- ``Calls``: the library still reaches our hook the way we intercept it (a
  call-site snippet, whitespace ignored, in the caller's source);
- ``Free``: a name we add to a library object is still unused by the library;
- ``test_subclass_overrides_exactly``: every name our subclasses define or
  assign that the library class also has is a known, intended override (a new
  upstream name that collides, or an override whose library name vanished,
  fails);
- ``test_copied_code_unchanged``: library functions we copied or replaced still
  have the source we copied (SHA-256 of ``inspect.getsource``);
- ``test_pinned_versions_are_the_verified_ones``: requirements.txt, the
  installed packages and ``VERIFIED`` agree, so this file states exactly which
  versions it was written against.

When a check fails after an upgrade: read the upstream change, adapt the
Switchboard code that uses the name, then update the table entry here.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Importing eventlet (never monkey-patched here) warns that it is deprecated.
pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")

# The versions every table below was checked against.
VERIFIED = {
    "python-socketio": "5.18.1",
    "python-engineio": "4.15.1",
    "eventlet": "0.41.3",
    "gevent": "26.9.0",
    "simple-websocket": "1.1.0",
}


# --------------------------------------------------------------------- helpers
def resolve(target: str) -> Any:
    """The object named by a dotted path (longest importable module prefix)."""
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(target)


def source_of(obj: Any) -> str:
    return inspect.getsource(inspect.unwrap(obj))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


SELF_ASSIGNED = re.compile(r"\bself\.([A-Za-z_]\w*)\s*(?::[^=\n]+)?=(?!=)")


def assigned_names(cls: type) -> set[str]:
    """Attribute names a class's own source assigns on ``self``."""
    try:
        return set(SELF_ASSIGNED.findall(inspect.getsource(cls)))
    except (OSError, TypeError):  # a builtin or C class
        return set()


def library_names(cls: type) -> set[str]:
    """Everything a library class (and its bases) defines or assigns on self."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        names |= set(vars(klass)) | assigned_names(klass)
    return names


@functools.cache
def instance(class_path: str) -> Any:
    """A cheap real instance of a library class (no I/O, no hub, no server)."""
    if class_path == "engineio.Server":
        import engineio

        return engineio.Server(async_mode="threading", monitor_clients=False)
    if class_path == "engineio.socket.Socket":
        from engineio.socket import Socket

        return Socket(instance("engineio.Server"), "sid")
    if class_path == "socketio.Server":
        import socketio

        return socketio.Server(async_mode="threading")
    if class_path == "socketio.Manager":
        import socketio

        return socketio.Manager()
    if class_path == "socketio.RedisManager":
        import socketio

        return socketio.RedisManager("redis://127.0.0.1:1/0", write_only=True)
    if class_path == "eventlet.websocket.RFC6455WebSocket":
        from eventlet.websocket import RFC6455WebSocket

        return RFC6455WebSocket(object(), {})  # stores the socket, reads nothing
    if class_path == "eventlet.wsgi.Input":
        import io

        from eventlet.wsgi import Input

        return Input(io.BytesIO(), 0, None)
    raise KeyError(class_path)


# ----------------------------------------------------------------- check kinds
@dataclass(frozen=True)
class Has:
    """``target`` exists; a function has these parameter names.

    ``exact``: we override it (all names must match); otherwise we call it
    (the names we pass must be its leading parameters). ``attrs``: names an
    instance must have (checked on a real instance when ``instance`` can build
    one, else in the ``self.x = `` assignments of the class's source).
    """

    target: str
    params: tuple[str, ...] | None = None
    exact: bool = False
    attrs: tuple[str, ...] = ()
    why: str = ""

    @property
    def id(self) -> str:
        return self.target + (f"[{','.join(self.attrs)}]" if self.attrs else "")

    def verify(self) -> None:
        try:
            obj = resolve(self.target)
        except (ImportError, AttributeError) as exc:
            pytest.fail(f"{self.target} is gone ({exc}); used by {self.why}")
        if self.params is not None:
            names = tuple(inspect.signature(obj).parameters)
            expected = self.params
            got = names if self.exact else names[: len(expected)]
            assert got == expected, (
                f"{self.target} parameters are now {names}, the code "
                f"{'overrides' if self.exact else 'calls'} it as {expected} "
                f"({self.why})"
            )
        if self.attrs:
            try:
                have = set(dir(instance(self.target)))
            except KeyError:
                have = library_names(obj)
            missing = [name for name in self.attrs if name not in have]
            assert not missing, (
                f"{self.target} instances no longer have {missing} ({self.why})"
            )


@dataclass(frozen=True)
class Calls:
    """The source of ``caller`` still contains ``snippet`` (whitespace ignored)."""

    caller: str
    snippet: str
    why: str = ""

    @property
    def id(self) -> str:
        return f"{self.caller}->{self.snippet[:40]}"

    def verify(self) -> None:
        code = squash(source_of(resolve(self.caller)))
        assert squash(self.snippet) in code, (
            f"{self.caller} no longer contains {self.snippet!r}: {self.why} "
            "would silently stop working"
        )


@dataclass(frozen=True)
class Free:
    """``name``, which Switchboard sets on ``target`` objects, is unused upstream."""

    target: str
    name: str
    why: str = ""

    @property
    def id(self) -> str:
        return f"{self.target}!{self.name}"

    def verify(self) -> None:
        cls = resolve(self.target)
        assert self.name not in library_names(cls), (
            f"{self.target} now has its own {self.name!r}, which {self.why} "
            "also sets: pick another name"
        )


Check = Has | Calls | Free

# ------------------------------------------------------------ python-socketio
SOCKETIO: list[Check] = [
    # engine/server.py: SwitchboardServer overrides
    Has(
        "socketio.Server.__init__",
        ("self", "client_manager", "logger"),
        why="server.py",
    ),
    Has("socketio.Server._engineio_server_class", ("self",), True, why="server.py"),
    Has(
        "socketio.Server._handle_eio_connect",
        ("self", "eio_sid", "environ"),
        True,
        why="server.py",
    ),
    Has(
        "socketio.Server._handle_connect",
        ("self", "eio_sid", "namespace", "data"),
        True,
        why="server.py",
    ),
    Has(
        "socketio.Server._handle_disconnect",
        ("self", "eio_sid", "namespace", "reason"),
        True,
        why="server.py",
    ),
    Has(
        "socketio.Server.disconnect",
        ("self", "sid", "namespace", "ignore_queue"),
        True,
        why="server.py",
    ),
    Has(
        "socketio.Server._handle_event",
        ("self", "eio_sid", "namespace", "id", "data"),
        True,
        why="server.py",
    ),
    Has(
        "socketio.Server._handle_eio_message",
        ("self", "eio_sid", "data"),
        True,
        why="server.py",
    ),
    Has("socketio.Server._send_packet", ("self", "eio_sid", "pkt"), why="server.py"),
    # engine/admin_ui.py: forget_refused_connects wraps the Admin UI's hook
    Has(
        "socketio.admin.InstrumentedServer._trigger_event",
        ("self", "event", "namespace", "args"),
        True,
        why="admin_ui.py (wrapped after instrument())",
    ),
    Calls(
        "socketio.admin.InstrumentedServer.instrument",
        "self.sio._trigger_event = self._trigger_event",
        "admin_ui.py wrapping the instrumented connect report",
    ),
    Calls(
        "socketio.admin.InstrumentedServer.instrument",
        "self.sio.manager._timestamps = {}",
        "admin_ui.py forgetting a refused sid's connect time",
    ),
    Calls(
        "socketio.admin.InstrumentedServer._trigger_event",
        "self.sio.manager._timestamps[sid] = t",
        "admin_ui.py forgetting a refused sid's connect time",
    ),
    Has(
        "socketio.Server._send_eio_packet",
        ("self", "eio_sid", "eio_pkt"),
        True,
        why="delivery.py (replaced on the instance)",
    ),
    Has(
        "socketio.Server",
        attrs=(
            "environ",
            "handlers",
            "namespace_handlers",
            "packet_class",
            "manager",
            "eio",
            "async_mode",
            "reason",
        ),
        why="server.py, delivery.py",
    ),
    Has("socketio.packet.CONNECT_ERROR", why="server.py"),
    Has("socketio.packet.ACK", why="server.py"),
    Calls(
        "socketio.base_server.BaseServer.__init__",
        "self.eio = self._engineio_server_class()(**engineio_options)",
        "LeanEngineIO (server.py)",
    ),
    Calls(
        "socketio.base_server.BaseServer.__init__",
        "self.eio.on('connect', self._handle_eio_connect)",
        "slim_environ/deadlines (server.py)",
    ),
    Calls(
        "socketio.base_server.BaseServer.__init__",
        "self.eio.on('message', self._handle_eio_message)",
        "the malformed-packet close (server.py)",
    ),
    Calls(
        "socketio.Server._handle_eio_connect",
        "self.environ[eio_sid] = environ",
        "slim_environ replacing environ (server.py)",
    ),
    Calls(
        "socketio.Server._handle_eio_message",
        "self._handle_connect(eio_sid, pkt.namespace, pkt.data)",
        "the namespace check (server.py)",
    ),
    Calls(
        "socketio.Server._handle_eio_message",
        "self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)",
        "the event checks (server.py)",
    ),
    Calls(
        "socketio.Server._handle_eio_message",
        "self._handle_disconnect(eio_sid, pkt.namespace,",
        "the namespace deadline (server.py)",
    ),
    Calls(
        "socketio.Server._handle_eio_disconnect",
        "self._handle_disconnect(eio_sid, n, reason)",
        "the namespace deadline (server.py)",
    ),
    Calls(
        "socketio.Server._handle_connect",
        "self.manager.disconnect(sid, namespace, ignore_queue=True)",
        "refusal detection via sid_from_eio_sid (server.py)",
    ),
    Calls(
        "socketio.Manager.emit",
        "self.server._send_eio_packet(eio_sid, p)",
        "direct fan-out (delivery.py)",
    ),
    # manager internals: gate.py, managers.py, cluster_manager.py, sockets.py
    Has(
        "socketio.Manager",
        attrs=("rooms", "server", "json"),
        why="gate.py (Manager.rooms), cluster_manager.py",
    ),
    Calls(
        "socketio.base_manager.BaseManager.__init__",
        "self.rooms = {}  # self.rooms[namespace][room][sio_sid] = eio_sid",
        "ReplayGate.intercept reading rooms[ns][room] as {sid: eio_sid} (gate.py)",
    ),
    Has(
        "socketio.Manager.emit",
        (
            "self",
            "event",
            "data",
            "namespace",
            "room",
            "skip_sid",
            "callback",
            "to",
            "kwargs",
        ),
        True,
        why="GatedManager.emit (managers.py)",
    ),
    Has(
        "socketio.Manager.sid_from_eio_sid",
        ("self", "eio_sid", "namespace"),
        why="server.py, sockets.py",
    ),
    Has(
        "socketio.Manager.eio_sid_from_sid",
        ("self", "sid", "namespace"),
        why="server.py, sockets.py",
    ),
    Has("socketio.Manager.get_namespaces", ("self",), why="server.py"),
    Has(
        "socketio.Manager.is_connected",
        ("self", "sid", "namespace"),
        why="sockets.py",
    ),
    Has(
        "socketio.Manager.is_pre_connected",
        ("self", "sid", "namespace"),
        why="sockets.py (is_local)",
    ),
    Has(
        "socketio.PubSubManager.emit",
        (
            "self",
            "event",
            "data",
            "namespace",
            "room",
            "skip_sid",
            "callback",
            "to",
            "kwargs",
        ),
        True,
        why="QueueOrderedGate.emit (managers.py)",
    ),
    Has(
        "socketio.PubSubManager._handle_emit",
        ("self", "message"),
        True,
        why="QueueOrderedGate._handle_emit (managers.py)",
    ),
    Calls(
        "socketio.PubSubManager.emit",
        "if kwargs.get('ignore_queue'): return super().emit(",
        "QueueOrderedGate's local path (managers.py)",
    ),
    Calls(
        "socketio.PubSubManager._thread",
        "elif data.get('host_id') != self.host_id:"
        " if data['method'] == 'emit': self._handle_emit(data)",
        "publishing with host_id None so our own listener delivers (managers.py)",
    ),
    Calls(
        "socketio.PubSubManager._handle_emit",
        "super().emit(message['event'], data,",
        "the gated local delivery (managers.py)",
    ),
    Has(
        "socketio.RedisManager.__init__",
        ("self", "url", "channel", "write_only", "logger", "json", "redis_options"),
        why="ClusterRedisManager (cluster_manager.py)",
    ),
    Has(
        "socketio.RedisManager._publish",
        ("self", "data"),
        True,
        why="cluster_manager.py",
    ),
    Has(
        "socketio.RedisManager._redis_listen_with_retries",
        ("self",),
        True,
        why="cluster_manager.py",
    ),
    Has("socketio.RedisManager._redis_connect", ("self",), why="cluster_manager.py"),
    Has(
        "socketio.RedisManager",
        attrs=(
            "redis_url",
            "channel",
            "json",
            "pubsub",
            "host_id",
            "server",
            "connected",
        ),
        why="cluster_manager.py",
    ),
    Calls(
        "socketio.RedisManager._listen",
        "for message in self._redis_listen_with_retries():",
        "the resubscribe/catch-up listener (cluster_manager.py)",
    ),
    Calls(
        "socketio.PubSubManager.initialize",
        "self.thread = self.server.start_background_task(self._thread)",
        "the listener (cluster_manager.py)",
    ),
    # base.py: BaseNamespace
    Has(
        "socketio.Namespace.trigger_event",
        ("self", "event", "args"),
        True,
        why="BaseNamespace (base.py)",
    ),
    Has("socketio.exceptions.ConnectionRefusedError", why="base.py"),
]

# ------------------------------------------------------------ python-engineio
ENGINEIO: list[Check] = [
    # engine/transport.py: EdgeEngineIO
    Has(
        "engineio.Server",
        attrs=(
            "_async",
            "sockets",
            "reason",
            "max_http_buffer_size",
            "async_mode",
            "start_service_task",
            "service_task_handle",
            "cookie",
            "ping_interval",
            "ping_timeout",
            "ping_interval_grace_period",
            "logger",
        ),
        why="transport.py, lean.py",
    ),
    Has(
        "engineio.Server.create_queue",
        ("self", "args", "kwargs"),
        True,
        why="EdgeEngineIO.create_queue (transport.py)",
    ),
    Has(
        "engineio.Server.disconnect",
        ("self", "sid"),
        True,
        why="EdgeEngineIO.disconnect (transport.py)",
    ),
    Has(
        "engineio.Server.handle_request",
        ("self", "environ", "start_response"),
        True,
        why="EdgeEngineIO.handle_request (transport.py)",
    ),
    Has(
        "engineio.Server._bad_request", ("self", "message"), why="transport.py, lean.py"
    ),
    Has("engineio.Server._cors_headers", ("self", "environ"), why="transport.py"),
    Has(
        "engineio.Server._get_socket",
        ("self", "sid"),
        why="sockets.py",
    ),
    # tests/support/engine_client.py: OrderedEngineIOClient (the test clients)
    Has(
        "engineio.Client._trigger_event",
        ("self", "event", "args", "kwargs"),
        True,
        why="OrderedEngineIOClient (tests/support/engine_client.py)",
    ),
    Calls(
        "engineio.Client._receive_packet",
        "self._trigger_event('message', pkt.data, run_async=True)",
        "OrderedEngineIOClient handling messages in order",
    ),
    Has(
        "socketio.Client._engineio_client_class",
        ("self",),
        True,
        why="OrderedClient (tests/support/engine_client.py)",
    ),
    Has("engineio.Server.get_queue_empty_exception", ("self",), why="lean.py writer"),
    Has("engineio.Server.reason.SERVER_DISCONNECT", why="transport.py"),
    Has("engineio.Server.reason.TRANSPORT_CLOSE", why="lean.py"),
    Calls(
        "engineio.base_server.BaseServer.__init__",
        "self._async = importlib.import_module("
        "'engineio.async_drivers.' + mode)._async",
        "EdgeEngineIO/tune_delivery wrapping _async (transport.py, delivery.py)",
    ),
    Calls(
        "engineio.base_socket.BaseSocket.__init__",
        "self.queue = self.server.create_queue()",
        "the counting/waking queues (transport.py, lean.py)",
    ),
    Calls(
        "engineio.socket.Socket._upgrade_websocket",
        "ws = self.server._async['websocket'](self._websocket_handler, self.server)",
        "the websocket driver wrappers (transport.py, delivery.py)",
    ),
    Calls(
        "engineio.Server.handle_request",
        "r = self._handle_connect(environ, start_response, transport, jsonp_index)",
        "LeanEngineIO._handle_connect (lean.py)",
    ),
    Calls(
        "engineio.socket.Socket.handle_get_request",
        "return getattr(self, '_upgrade_' + transport)(environ, start_response)",
        "the websocket driver wrappers (transport.py, delivery.py)",
    ),
    Calls(
        "engineio.Server.handle_request",
        "socket.handle_post_request(environ)",
        "the checked POST body (transport.py)",
    ),
    Calls(
        "engineio.socket.Socket.handle_post_request",
        "body = environ['wsgi.input'].read(length).decode('utf-8')",
        "the re-wrapped POST body (transport.py)",
    ),
    # each driver's table, as EdgeEngineIO and tune_delivery read it
    Has("engineio.async_drivers.eventlet._async", why="transport.py, delivery.py"),
    Calls(
        "engineio.async_drivers.eventlet",
        "'queue': queue.Queue, 'queue_empty': queue.Empty,"
        " 'event': Event, 'websocket': WebSocketWSGI,",
        "transport.py, delivery.py",
    ),
    Calls(
        "engineio.async_drivers.gevent",
        "'queue': queue.JoinableQueue, 'queue_empty': queue.Empty,"
        " 'event': Event, 'websocket': WebSocketWSGI,",
        "transport.py, delivery.py",
    ),
    Calls(
        "engineio.async_drivers.threading",
        "'queue': queue.Queue, 'queue_empty': queue.Empty,",
        "transport.py",
    ),
    Calls(
        "engineio.async_drivers.eventlet.WebSocketWSGI.__init__",
        "max_frame_length=int(server.max_http_buffer_size)",
        "the 1009 over-size close (transport.py)",
    ),
    # the session object
    Has(
        "engineio.socket.Socket",
        attrs=(
            "server",
            "sid",
            "queue",
            "last_ping",
            "connected",
            "upgrading",
            "upgraded",
            "closing",
            "closed",
        ),
        why="transport.py, lean.py, delivery.py, sockets.py",
    ),
    Has(
        "engineio.socket.Socket.__init__",
        ("self", "server", "sid"),
        True,
        why="LeanSocket (lean.py)",
    ),
    Has(
        "engineio.socket.Socket.check_ping_timeout",
        ("self",),
        why="DirectLink.write (delivery.py)",
    ),
    Has(
        "engineio.socket.Socket.close",
        ("self", "wait", "abort", "reason"),
        why="transport.py, lean.py",
    ),
    Has("engineio.socket.Socket.send", ("self", "pkt"), why="lean.py"),
    Has("engineio.socket.Socket.receive", ("self", "pkt"), why="lean.py reader"),
    Has("engineio.socket.Socket.poll", ("self",), why="lean.py"),
    Has(
        "engineio.socket.Socket.handle_get_request",
        ("self", "environ", "start_response"),
        why="lean.py",
    ),
    Has(
        "engineio.socket.Socket.schedule_ping",
        ("self",),
        True,
        why="LeanSocket (lean.py)",
    ),
    Has(
        "engineio.socket.Socket._send_ping",
        ("self",),
        why="replaced by LeanSocket._ping_now (lean.py)",
    ),
    Has(
        "engineio.socket.Socket._websocket_handler",
        ("self", "ws"),
        True,
        why="LeanSocket, delivery.py",
    ),
    Calls(
        "engineio.socket.Socket.receive",
        "if pkt.packet_type == packet.PONG: self.schedule_ping()",
        "the timer ping (lean.py)",
    ),
    Calls(
        "engineio.socket.Socket.close",
        "self.closed = True self.queue.put(None)",
        "the lean writer's end of session (lean.py)",
    ),
    Calls(
        "engineio.socket.Socket.check_ping_timeout",
        "if self.closed: raise exceptions.SocketIsClosedError()",
        "DirectLink.write, which checks closed first (delivery.py)",
    ),
    # names LeanEngineIO._handle_connect / LeanSocket call (copied code)
    Has("engineio.Server._service_task", ("self",), why="lean.py"),
    Has("engineio.Server.generate_id", ("self",), why="lean.py"),
    Has("engineio.Server._upgrades", ("self", "sid", "transport"), why="lean.py"),
    Has(
        "engineio.Server._trigger_event",
        ("self", "event", "args", "kwargs"),
        why="lean.py",
    ),
    Has("engineio.Server._unauthorized", ("self", "message"), why="lean.py"),
    Has(
        "engineio.Server._generate_sid_cookie",
        ("self", "sid", "attributes"),
        why="lean.py",
    ),
    Has(
        "engineio.Server._ok",
        ("self", "packets", "headers", "jsonp_index"),
        why="lean.py",
    ),
    Has(
        "engineio.packet.Packet.__init__",
        ("self", "packet_type", "data", "encoded_packet"),
        why="lean.py, delivery.py",
    ),
    Has(
        "engineio.packet.Packet.encode",
        ("self", "b64"),
        why="PendingFrame.encode (frames.py)",
    ),
    *(
        Has(f"engineio.packet.{name}", why="lean.py, delivery.py")
        for name in ("OPEN", "CLOSE", "PING", "PONG", "MESSAGE", "UPGRADE", "NOOP")
    ),
    *(
        Has(f"engineio.exceptions.{name}", why="lean.py")
        for name in ("UnknownPacketError", "SocketIsClosedError", "QueueEmpty")
    ),
    # names Switchboard adds to engine.io objects
    Free("engineio.socket.Socket", "edge_websocket", "CheckedWebSocket (websocket.py)"),
    Free(
        "engineio.socket.Socket", "edge_rejected", "EdgeEngineIO.reject (transport.py)"
    ),
    Free("engineio.packet.Packet", "_switchboard_frame", "websocket_frame (frames.py)"),
    # gevent mode must use simple-websocket (delivery.py reads .ws.sock)
    Calls(
        "engineio.async_drivers._websocket_wsgi.SimpleWebSocketWSGI.__call__",
        "self.ws = simple_websocket.Server(environ, **self.server_args)",
        "raw_sockets/shutdown (delivery.py, transport.py)",
    ),
]

# ------------------------------------------------------------------- eventlet
EVENTLET: list[Check] = [
    Has(
        "eventlet.websocket.RFC6455WebSocket",
        attrs=(
            "socket",
            "_sendlock",
            "environ",
            "_apply_mask",
            "close",
            "wait",
            "send",
        ),
        why="transport.py, delivery.py, lean.py",
    ),
    Has(
        "eventlet.websocket.RFC6455WebSocket._apply_mask",
        ("data", "mask", "length", "offset"),
        True,
        why="apply_mask drop-in (websocket.py)",
    ),
    Has(
        "eventlet.websocket.RFC6455WebSocket.close",
        ("self", "close_data"),
        why="CheckedWebSocket close hook (websocket.py)",
    ),
    Calls(
        "eventlet.websocket.RFC6455WebSocket._recv_frame",
        "d = self._apply_mask(d, mask, length=dlen, offset=received)",
        "the instance-level apply_mask (websocket.py)",
    ),
    Calls(
        "eventlet.websocket.RFC6455WebSocket._recv_frame",
        "d = self.socket.recv(length - received)",
        "BufferedReads (websocket.py)",
    ),
    Calls(
        "eventlet.websocket.RFC6455WebSocket._get_bytes",
        "d = self.socket.recv(numbytes - len(data))",
        "BufferedReads (websocket.py)",
    ),
    Calls(
        "eventlet.websocket.RFC6455WebSocket._recv_frame",
        "raise FailedConnectionError(1009,",
        "the over-size log line (transport.py)",
    ),
    Calls(
        "eventlet.websocket.RFC6455WebSocket._iter_frames",
        "self.close(close_data=(exc_val.status, exc_val.message))",
        "the close-status hook reading close_data (transport.py)",
    ),
    Calls(
        "eventlet.websocket.RFC6455WebSocket._send",
        "self._sendlock.acquire() try: self.socket.sendall(frame)",
        "DirectLink/GuardedWebSocket send_lock (delivery.py)",
    ),
    Has(
        "eventlet.semaphore.Semaphore.locked",
        ("self",),
        why="DirectLink.write (delivery.py)",
    ),
    Has(
        "eventlet.semaphore.Semaphore.acquire",
        ("self", "blocking", "timeout"),
        why="GuardedWebSocket (delivery.py)",
    ),
    Has(
        "eventlet.greenio.base.GreenSocket",
        attrs=("fd",),
        why="raw_sockets (delivery.py)",
    ),
    Calls(
        "eventlet.greenio.base.GreenSocket.__init__",
        "if should_set_nonblocking and fd.fileno() != -1:"
        " set_nonblocking(fd) self.fd = fd",
        "raw_sockets needing a non-blocking fd (delivery.py)",
    ),
    Has(
        "eventlet.greenio.base.GreenSocket.sendall",
        why="GuardedWebSocket (delivery.py)",
    ),
    Has("eventlet.greenio.base.GreenSocket.settimeout", why="lean.py"),
    # environ.py: release_environ; lean.py: call_later
    Has("eventlet.wsgi.Input", attrs=("rfile",), why="release_environ (environ.py)"),
    Has("eventlet.wsgi.Input.get_socket", ("self",), why="engine.io's eventlet driver"),
    Calls(
        "eventlet.wsgi.HttpProtocol.get_environ",
        "env['wsgi.input'] = env['eventlet.input'] = Input(",
        "release_environ (environ.py)",
    ),
    Calls(
        "eventlet.wsgi.HttpProtocol.get_environ",
        "env['eventlet.posthooks'] = []",
        "release_environ (environ.py)",
    ),
    Has("eventlet.hubs.get_hub", why="call_later (lean.py)"),
    Has(
        "eventlet.hubs.hub.BaseHub.schedule_call_global",
        ("self", "seconds", "cb"),
        why="call_later (lean.py)",
    ),
    Has("eventlet.spawn_n", ("func",), why="call_later (lean.py)"),
    # lean_http.py: LeanHttpProtocol
    Has("eventlet.wsgi.HttpProtocol.setup", ("self",), True, why="lean_http.py"),
    Has("eventlet.wsgi.HttpProtocol.get_environ", ("self",), True, why="lean_http.py"),
    Has(
        "eventlet.wsgi.HttpProtocol.wbufsize",
        why="lean_http.py (deleted from the instance to fall back to it)",
    ),
    Calls(
        "eventlet.wsgi.HttpProtocol.setup",
        "self.wfile = conn.makefile('wb', self.wbufsize)",
        "the lazy write buffer (lean_http.py)",
    ),
    Calls(
        "eventlet.wsgi.HttpProtocol.handle_one_request",
        "self.environ = self.get_environ()",
        "the header trimming (lean_http.py)",
    ),
    Has(
        "eventlet.wsgi.server",
        ("sock", "site", "log", "environ", "max_size"),
        why="wsgi.py",
    ),
    Calls(
        "eventlet.wsgi.server",
        "protocol=HttpProtocol",
        "wsgi.py passing protocol=lean_http_protocol()",
    ),
    # queues wrapped by counting_queue / waking_queue
    Has(
        "eventlet.queue.Queue.put",
        ("self", "item", "block", "timeout"),
        True,
        why="counting_queue/waking_queue",
    ),
    Has(
        "eventlet.queue.Queue.get",
        ("self", "block", "timeout"),
        True,
        why="counting_queue",
    ),
    Free("eventlet.queue.Queue", "queued_bytes", "counting_queue (transport.py)"),
    Free("eventlet.queue.Queue", "wake", "waking_queue (lean.py)"),
]

# --------------------------------------------------------------------- gevent
GEVENT: list[Check] = [
    Has("gevent.spawn_later", ("seconds", "args"), why="call_later (lean.py)"),
    Has(
        "gevent.queue.JoinableQueue.put",
        ("self", "item", "block", "timeout"),
        True,
        why="counting_queue/waking_queue",
    ),
    Has(
        "gevent.queue.Queue.get",
        ("self", "block", "timeout"),
        True,
        why="counting_queue",
    ),
    Free("gevent.queue.JoinableQueue", "queued_bytes", "counting_queue (transport.py)"),
    Free("gevent.queue.JoinableQueue", "wake", "waking_queue (lean.py)"),
    Has("gevent._socket3.socket", attrs=("_sock",), why="raw_sockets (delivery.py)"),
    Calls(
        "gevent._socket3.socket.__init__",
        "self._sock = self._gevent_sock_class(family, type, proto, fileno)",
        "raw_sockets (delivery.py)",
    ),
    Calls(
        "gevent._socket3.socket.__init__",
        "_socket.socket.setblocking(self._sock, False)",
        "raw_sockets needing a non-blocking OS socket (delivery.py)",
    ),
    Calls(
        "gevent._socket3._wrefsocket",
        "class _wrefsocket(_socket.socket):",
        "raw_sockets' isinstance(raw, _socket.socket) (delivery.py)",
    ),
    Has("gevent._socket3.socket.sendall", why="GuardedWebSocket (delivery.py)"),
    Has(
        "gevent._socket3.socket.shutdown",
        why="CheckedWebSocket.shutdown (websocket.py)",
    ),
    Has(
        "gevent.pywsgi.WSGIServer.__init__",
        ("self", "listener", "application"),
        why="wsgi.py",
    ),
]

# ----------------------------------------------------------- simple-websocket
SIMPLE_WEBSOCKET: list[Check] = [
    Has(
        "simple_websocket.Server.__init__",
        ("self", "environ"),
        why="engine.io's SimpleWebSocketWSGI",
    ),
    Calls(
        "simple_websocket.ws.Base.__init__",
        "self.sock = sock",
        "raw_sockets, CheckedWebSocket.shutdown (delivery.py, transport.py)",
    ),
    Calls(
        "simple_websocket.Server.__init__",
        "sock = wsgi_input.raw._sock",
        "raw_sockets seeing gevent's socket (delivery.py)",
    ),
    Calls(
        "simple_websocket.ws.Base.send",
        "self.sock.send(out_data)",
        "GuardedWebSocket, which writes with sendall itself (delivery.py)",
    ),
    Has("simple_websocket.ConnectionClosed", why="engine.io's SimpleWebSocketWSGI"),
]

LIBRARIES = {
    "python-socketio": SOCKETIO,
    "python-engineio": ENGINEIO,
    "eventlet": EVENTLET,
    "gevent": GEVENT,
    "simple-websocket": SIMPLE_WEBSOCKET,
}


def cases(checks: list[Check]) -> list[Any]:
    return [pytest.param(check, id=check.id) for check in checks]


@pytest.mark.parametrize(
    "check", cases(SOCKETIO + ENGINEIO + EVENTLET + GEVENT + SIMPLE_WEBSOCKET)
)
def test_library_internals(check: Check) -> None:
    check.verify()


def test_gevent_mode_uses_simple_websocket() -> None:
    """With gevent-websocket installed engine.io would not use simple-websocket."""
    from engineio.async_drivers import gevent as driver

    assert driver.SimpleWebSocketWSGI is not None, (
        "gevent-websocket is installed: gevent mode no longer uses simple-websocket "
        "and delivery.py/transport.py cannot find the raw socket"
    )


def test_eventlet_reads_only_kept_environ_keys_after_the_app() -> None:
    """release_environ keeps only what eventlet reads once the app returned."""
    from eventlet.wsgi import HttpProtocol

    from webapp.engine.environ import EVENTLET_AFTER_RESPONSE

    code = inspect.getsource(HttpProtocol.handle_one_response)
    after_app = code[code.index("self.application(self.environ") :]
    read = set(re.findall(r"self\.environ(?:\.get\(|\[)\s*'([^']+)'", after_app))
    assert read <= set(EVENTLET_AFTER_RESPONSE), (
        f"eventlet now reads {read - set(EVENTLET_AFTER_RESPONSE)} from the environ "
        "after the app: keep it in environ.EVENTLET_AFTER_RESPONSE"
    )


def test_eventlet_reads_only_kept_headers_after_get_environ() -> None:
    """LeanHttpProtocol keeps only the request headers eventlet reads later."""
    from eventlet.wsgi import HttpProtocol

    from webapp.engine.lean_http import KEPT_HEADERS

    code = inspect.getsource(HttpProtocol.handle_one_response) + inspect.getsource(
        HttpProtocol.get_client_address
    )
    uses = re.findall(r"self\.headers(\.get\(\s*'([^']+)')?", code)
    other = [use for use, _name in uses if not use]
    assert not other, "eventlet reads self.headers other than with .get(name)"
    read = {name.lower() for _use, name in uses}
    assert read <= set(KEPT_HEADERS), (
        f"eventlet now reads headers {read - set(KEPT_HEADERS)} after get_environ: "
        "keep them in lean_http.KEPT_HEADERS"
    )


# --------------------------------------------------- our subclasses' overrides
def overrides_of(ours: type, library: type) -> set[str]:
    """Names ``ours`` defines, annotates or assigns on self that ``library`` has."""
    mine = set(vars(ours)) | set(vars(ours).get("__annotations__", {}))
    mine |= assigned_names(ours)
    mine = {name for name in mine if not (name.startswith("__") and name != "__init__")}
    return mine & library_names(library)


def _subclasses() -> list[Any]:
    return [
        (
            "webapp.engine.server.SwitchboardServer",
            "socketio.Server",
            {
                "__init__",
                "_engineio_server_class",
                "_handle_eio_connect",
                "_handle_connect",
                "_handle_disconnect",
                "disconnect",
                "_handle_event",
                "_handle_eio_message",
            },
        ),
        (
            "webapp.engine.transport.EdgeEngineIO",
            "engineio.Server",
            {
                "__init__",
                "_async",
                "create_queue",
                "disconnect",
                "handle_request",
            },
        ),
        (
            "webapp.engine.lean.LeanEngineIO",
            "engineio.Server",
            {
                "__init__",
                "_handle_connect",
                "start_service_task",
                "service_task_handle",
            },
        ),
        (
            "webapp.engine.lean.LeanSocket",
            "engineio.socket.Socket",
            {
                "__init__",
                "schedule_ping",
                "_websocket_handler",
                "last_ping",
                "connected",
                "upgrading",
                "upgraded",
            },
        ),
        (
            "webapp.engine.cluster_manager.ClusterRedisManager",
            "socketio.RedisManager",
            {
                "__init__",
                "_publish",
                "_redis_listen_with_retries",
                "connected",
            },
        ),
        (
            "webapp.engine.managers.QueueOrderedGate",
            "socketio.RedisManager",
            {
                "emit",
                "_handle_emit",
            },
        ),
        ("webapp.engine.managers.GatedManager", "socketio.Manager", {"emit"}),
        (
            "tests.support.engine_client.OrderedEngineIOClient",
            "engineio.Client",
            {"__init__", "_trigger_event"},
        ),
        (
            "tests.support.engine_client.OrderedClient",
            "socketio.Client",
            {"_engineio_client_class"},
        ),
        (
            "webapp.realtime.namespaces.base.BaseNamespace",
            "socketio.Namespace",
            {
                "__init__",
                "trigger_event",
            },
        ),
    ]


@pytest.mark.parametrize(
    ("ours", "library", "expected"),
    [pytest.param(*row, id=row[0].rsplit(".", 1)[1]) for row in _subclasses()],
)
def test_subclass_overrides_exactly(
    ours: str, library: str, expected: set[str]
) -> None:
    """A new upstream name colliding with ours, or a vanished hook, fails here."""
    found = overrides_of(resolve(ours), resolve(library))
    assert found == expected, (
        f"{ours} vs {library}: now collides with {sorted(found - expected)} "
        f"(new upstream names: rename ours), no longer overrides "
        f"{sorted(expected - found)} (upstream renamed/removed: the override is dead)"
    )


def test_lean_http_protocol_overrides_exactly() -> None:
    from eventlet.wsgi import HttpProtocol

    from webapp.engine.lean_http import lean_http_protocol

    found = overrides_of(lean_http_protocol(), HttpProtocol)
    assert found == {"setup", "get_environ", "wbufsize", "wfile", "headers"}, found


# ------------------------------------------------------------ copied code
@dataclass(frozen=True)
class Copy:
    library: str
    target: str
    sha256: str
    into: str
    copied: bool = True  # False: replaced by our own version, not copied


COPIES = [
    Copy(
        "python-engineio",
        "engineio.server.Server._handle_connect",
        "049f7c2b2c239080a6481e23e5af43340b0afe7571064b1af495f91cb946bb6c",
        "webapp/engine/lean.py (LeanEngineIO._handle_connect)",
    ),
    Copy(
        "python-engineio",
        "engineio.socket.Socket._websocket_handler",
        "58afe122719282de1def07b5530c154fbf41a40481bc8a787c4eb7d94db56c9c",
        "webapp/engine/lean.py (LeanSocket._websocket_handler and _read)",
    ),
    Copy(
        "python-engineio",
        "engineio.socket.Socket.schedule_ping",
        "fe316639159cd70d34cdb911a055fc1a0056ff15615b8460a1ab6593c95e9372",
        "webapp/engine/lean.py (LeanSocket.schedule_ping)",
    ),
    Copy(
        "python-engineio",
        "engineio.socket.Socket._send_ping",
        "21861287bd38dedcb34c5d7a2aba3b427cddb013d8f6a5d91d47383805de9bd6",
        "webapp/engine/lean.py (LeanSocket._ping_now)",
    ),
    Copy(
        "python-engineio",
        "engineio.server.Server.disconnect",
        "3f5faf6e405fe06b8e879409224120d726f1b77e0dc29b01597e49b057fe77bb",
        "webapp/engine/transport.py (EdgeEngineIO.disconnect)",
        False,
    ),
    Copy(
        "python-socketio",
        "socketio.redis_manager.RedisManager._redis_listen_with_retries",
        "a19262da0295db203961f4868ce9544ec2db02a989fc5067b7a028fdf9bf9e2a",
        "webapp/engine/cluster_manager.py"
        " (ClusterRedisManager._redis_listen_with_retries)",
    ),
    Copy(
        "python-socketio",
        "socketio.redis_manager.RedisManager._publish",
        "9218e2786bc47d269215f4eec4b219c8277798d4a83c6704b06e13925de9f57d",
        "webapp/engine/cluster_manager.py (ClusterRedisManager._publish)",
        False,
    ),
    Copy(
        "eventlet",
        "eventlet.websocket.RFC6455WebSocket._apply_mask",
        "f6ac2b9da0f0a63c968a26d7ec2a38d9b8e88135836920140b8799d8b83ea002",
        "webapp/engine/websocket.py (apply_mask)",
        False,
    ),
]


def source_sha256(target: str) -> str:
    return hashlib.sha256(source_of(resolve(target)).encode()).hexdigest()


@pytest.mark.parametrize("copy", [pytest.param(c, id=c.target) for c in COPIES])
def test_copied_code_unchanged(copy: Copy) -> None:
    action = "re-copy it into" if copy.copied else "re-check the replacement in"
    assert source_sha256(copy.target) == copy.sha256, (
        f"{copy.library} changed {copy.target}: {action} {copy.into} "
        "and update this hash"
    )


# ------------------------------------------------------------------ versions
def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


@pytest.mark.parametrize("package", sorted(VERIFIED))
def test_pinned_versions_are_the_verified_ones(package: str) -> None:
    installed = importlib.metadata.version(package)
    assert pinned().get(package) == VERIFIED[package] == installed, (
        f"{package}: requirements.txt pins {pinned().get(package)}, installed "
        f"{installed}, this file verified {VERIFIED[package]}: re-run it against "
        "the new version, fix what fails, then update VERIFIED"
    )
