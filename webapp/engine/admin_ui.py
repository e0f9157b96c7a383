"""The one private hook the Socket.IO Admin UI needs (webapp/observability/admin_ui.py).

python-socketio's instrumentation (5.18, ``admin.py``) announces a socket before
its connect handler runs and never takes it back when the handler refuses: the UI
would list sockets that never existed (every bad token), and
``manager._timestamps`` would keep their sids forever. The wrapper below undoes
both; tests/unit/test_engine_hooks.py checks the names it relies on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import socketio


def forget_refused_connects(sio: socketio.Server, admin_namespace: str) -> None:
    """Report a refused connect to the Admin UI as gone, and forget its sid."""
    instrumented = sio._trigger_event

    def forget(sid: str, namespace: str) -> None:
        sio.manager._timestamps.pop(sid, None)  # type: ignore[attr-defined]
        when = datetime.now(UTC).isoformat()
        refused = (namespace, sid, "connection refused", when)
        sio.emit("socket_disconnected", refused, namespace=admin_namespace)

    def trigger(event: str, namespace: str, *args: Any) -> Any:
        if event != "connect":
            return instrumented(event, namespace, *args)
        try:
            result = instrumented(event, namespace, *args)
        except (socketio.exceptions.ConnectionRefusedError, ConnectionRefusedError):
            forget(args[0], namespace)
            raise
        if result is False:
            forget(args[0], namespace)
        return result

    sio._trigger_event = trigger  # type: ignore[method-assign]
