"""The Socket.IO side: one server, four namespaces.

Namespace modules are imported inside the functions: services import
``webapp.engine.gate``, and importing the namespaces (which import services)
at package import time would be circular.
"""

from __future__ import annotations

from flask import Flask


def init_socketio(app: Flask) -> None:
    """Create the server, register the namespaces and mount it on the app."""
    from webapp.realtime.build import create_socketio_server, mount
    from webapp.realtime.dashboard import DashboardNamespace
    from webapp.realtime.engagement import EngagementNamespace
    from webapp.realtime.events import EventsNamespace
    from webapp.realtime.system import SystemNamespace

    sio = create_socketio_server(app)
    sio.register_namespace(EngagementNamespace("/engagement", app))
    sio.register_namespace(EventsNamespace("/events", app))
    sio.register_namespace(SystemNamespace("/system", app))
    sio.register_namespace(DashboardNamespace("/dashboard", app))
    app.extensions["socketio"] = sio
    mount(app, sio)
    if sio.async_mode in ("eventlet", "gevent"):
        # A serving process (python wsgi.py or a gunicorn worker), not the CLI.
        start_background_jobs(app)


def start_background_jobs(app: Flask) -> None:
    """Jobs that run inside a serving process (not in the CLI or unit tests)."""
    from webapp.services.connection_audit import start_connection_audit
    from webapp.services.retention import start_pruning
    from webapp.services.slow_consumers import start_slow_consumer_watch

    start_pruning(app)
    start_slow_consumer_watch(app)
    start_connection_audit(app)
