"""The Socket.IO side: one server, four namespaces (``namespaces/``).

``build.py`` builds the server from the configuration on the engine seam
(``webapp/engine/``); the namespaces stay thin over ``webapp.services``.
"""

from __future__ import annotations

from flask import Flask

from webapp.realtime.build import create_socketio_server, mount
from webapp.realtime.namespaces.dashboard import DashboardNamespace
from webapp.realtime.namespaces.engagement import EngagementNamespace
from webapp.realtime.namespaces.events import EventsNamespace
from webapp.realtime.namespaces.system import SystemNamespace
from webapp.services.delivery.retention import start_pruning
from webapp.services.delivery.slow_consumers import start_slow_consumer_watch
from webapp.services.tenancy.connection_audit import start_connection_audit
from webapp.services.webhooks.sender import start_webhook_sender


def init_socketio(app: Flask) -> None:
    """Create the server, register the namespaces and mount it on the app."""
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
    start_pruning(app)
    start_slow_consumer_watch(app)
    start_connection_audit(app)
    start_webhook_sender(app)
