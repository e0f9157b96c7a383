"""What an operator watches: HTTP metrics, dependency probes, the Socket.IO Admin UI.

``init_observability`` is called once by ``create_app``, after the Socket.IO server
exists (the Admin UI instruments it).
"""

from __future__ import annotations

from flask import Flask


def init_observability(app: Flask) -> None:
    """Wire HTTP metrics, the dependency probe and (when enabled) the Admin UI."""
    from webapp import metrics
    from webapp.extensions import get_socketio
    from webapp.observability.admin_ui import init_admin_ui
    from webapp.observability.http_metrics import init_http_metrics
    from webapp.observability.probes import start_dependency_probe

    sio = get_socketio(app)
    metrics.PROCESS_INFO.async_mode = sio.async_mode
    metrics.initialise_series(sorted(sio.namespace_handlers))
    init_http_metrics(app)
    init_admin_ui(app, sio)
    if sio.async_mode in ("eventlet", "gevent"):
        # A serving process (python wsgi.py or a gunicorn worker), not the CLI.
        start_dependency_probe(app)
