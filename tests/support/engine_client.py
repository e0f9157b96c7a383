"""The test clients' side of the engine seam: an engine.io client keeping order.

The only test-support code that overrides a python-engineio private name
(``Client._trigger_event``); tests/unit/test_engine_hooks.py checks it at the pinned
version.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import engineio
import socketio


class OrderedEngineIOClient(engineio.Client):
    """engine.io client that handles messages in arrival order.

    The stock client starts a thread per incoming message, so under load a
    python-socketio client can see events out of the order the server sent them
    (socket.io-client in JavaScript never does). Tests check order, so here one
    worker thread per client handles messages one after the other (not the read
    loop itself, which a server-initiated disconnect must be able to join).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._worker: threading.Thread | None = None

    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event != "message" or not kwargs.get("run_async"):
            return super()._trigger_event(event, *args, **kwargs)
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._handle_in_order, daemon=True)
            self._worker.start()
        self._inbox.put(args)
        return None

    def _handle_in_order(self) -> None:
        while True:
            args = self._inbox.get()
            try:
                super()._trigger_event("message", *args, run_async=False)
            except Exception:  # noqa: BLE001 - logged by engineio; keep going
                pass


class OrderedClient(socketio.Client):
    """``socketio.Client`` on ``OrderedEngineIOClient``."""

    def _engineio_client_class(self) -> type[engineio.Client]:
        return OrderedEngineIOClient
