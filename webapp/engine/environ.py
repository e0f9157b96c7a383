"""What a connection keeps of its WSGI request environ for its whole life.

python-socketio keeps the environ of every connection (``get_environ``, the
``connect`` handler's ``environ``); the whole request dict, with eventlet's
objects in it, is most of an idle connection's memory after its greenthreads.
Only the keys the app reads are kept; eventlet's own keys are released once the
response started.
"""

from __future__ import annotations

from typing import Any

# What python-socketio keeps of a connection's WSGI environ (``get_environ``, the
# namespaces' connect handlers): who the client is. Nothing in the app reads more.
KEPT_ENVIRON = ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT", "HTTP_ORIGIN")


# What eventlet's WSGI server reads from a request's environ after the app returns.
EVENTLET_AFTER_RESPONSE = ("eventlet.posthooks", "eventlet.minimum_write_chunk_size")


def slim_environ(environ: dict[str, Any]) -> dict[str, Any]:
    """The part of a WSGI environ worth keeping for a connection's lifetime."""
    return {key: environ[key] for key in KEPT_ENVIRON if key in environ}


def release_environ(environ: Any) -> None:
    """Free an eventlet websocket request's read buffer and environ after the handshake.

    eventlet's server keeps the request (its environ: headers, input object,
    closures; its read buffer) until the websocket ends; nothing reads them after
    the handshake but the server itself, at the end, for the keys kept here.
    gevent's requests are left alone.
    """
    if not isinstance(environ, dict) or "eventlet.posthooks" not in environ:
        return
    # The request's read buffer (8 KiB): the websocket reads the socket itself,
    # and eventlet reads no further request from a connection that was upgraded
    # (closing a buffered reader frees its buffer; the socket stays open).
    rfile = getattr(environ.get("eventlet.input"), "rfile", None)
    if rfile is not None:
        rfile.close()
    kept = {k: environ[k] for k in EVENTLET_AFTER_RESPONSE if k in environ}
    environ.clear()
    environ.update(kept)
