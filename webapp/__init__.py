"""Switchboard: a multi-tenant real-time server for Flask stacks."""

from __future__ import annotations

import logging
import os

import click
from flask import Flask

from config import ConfigurationError, config

SQLITE_SYNCHRONOUS_MODES = ("FULL", "NORMAL", "EXTRA")


def create_app(config_name: str | None = None) -> Flask:
    """Create the app: config, extensions, blueprints, errors, sockets, cli.

    ``config_name`` is one of ``development``, ``testing``, ``production``; by default
    it comes from ``APP_CONFIG``.
    """
    app = Flask(__name__)
    name = config_name or os.environ.get("APP_CONFIG", "development")
    config_class = config[name]
    app.config.from_object(config_class)
    try:
        config_class.init_app(app)
    except ConfigurationError as exc:
        if click.get_current_context(silent=True) is not None:
            # Under the flask CLI: one line and exit. An exception would reach
            # the operator as a traceback when flask lists commands (--help).
            click.echo(f"Error: {exc}", err=True)
            raise SystemExit(2) from None
        raise
    if app.config["EVENT_RETENTION"] < app.config["REPLAY_MAX_AGE"]:
        # A replay may read events up to REPLAY_MAX_AGE old; pruning them sooner
        # could cut an in-flight replay short.
        raise RuntimeError("EVENT_RETENTION must be >= REPLAY_MAX_AGE")
    _configure_logging(app)
    _disable_cookie_sessions(app)

    register_extensions(app)
    register_publish_targets()
    register_blueprints(app)
    register_errorhandlers(app)
    register_sockets(app)
    register_observability(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to this app."""
    from webapp.auth.tokens import register_jwt_callbacks
    from webapp.extensions import db, jwt, migrate
    from webapp.services.cluster.connections import init_connections
    from webapp.services.tenancy.login_throttle import init_login_throttle

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    options.setdefault("pool_pre_ping", app.config["DB_POOL_PRE_PING"])
    if not _sqlite_in_memory(uri):
        # Size the pool for many concurrent greenlets, not a handful of threads
        # (on SQLite too: past the pool, every request opened and closed a
        # connection, running the WAL pragmas each time).
        options.setdefault("pool_size", app.config["DB_POOL_SIZE"])
        options.setdefault("max_overflow", app.config["DB_POOL_SIZE"] * 2)
        options.setdefault("pool_recycle", app.config["DB_POOL_RECYCLE"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations")
    )
    jwt.init_app(app)
    register_jwt_callbacks(app)
    init_connections(app)
    init_login_throttle(app)
    if uri.startswith("sqlite"):
        _enable_sqlite_wal(app)


def register_blueprints(app: Flask) -> None:
    """REST API and pages, with their input guard, id converter and CORS."""
    from webapp.api import register_blueprints as register_api
    from webapp.api.converters import init_converters
    from webapp.api.cors import init_cors
    from webapp.api.request_guard import init_request_guard
    from webapp.asyncapi.views import bp as asyncapi_bp

    init_converters(app)  # before any route is added
    init_request_guard(app)
    init_cors(app)
    register_api(app)
    app.register_blueprint(asyncapi_bp)


def register_errorhandlers(app: Flask) -> None:
    """One JSON error shape for every error."""
    from webapp.errors import register_error_handlers

    register_error_handlers(app)


def register_publish_targets() -> None:
    """The target kinds ``POST /api/publish`` and the services resolve to rooms."""
    from webapp.services.delivery.target_kinds import register_target_kinds

    register_target_kinds()


def register_sockets(app: Flask) -> None:
    """The Socket.IO server, mounted on the same WSGI app."""
    from webapp.realtime import init_socketio

    init_socketio(app)


def register_observability(app: Flask) -> None:
    """HTTP metrics, dependency probes and the Socket.IO Admin UI."""
    from webapp.observability import init_observability

    init_observability(app)


def register_commands(app: Flask) -> None:
    """Flask CLI commands."""
    from webapp.cli import register_cli

    register_cli(app)


def _sqlite_in_memory(uri: str) -> bool:
    # One shared connection (a static pool): it has no size to set.
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _disable_cookie_sessions(app: Flask) -> None:
    """No Flask cookie session: the API authenticates with headers only.

    Flask's default session interface builds a signing serializer and parses
    cookies on every request (~2 % of a publish's CPU, py-spy); this one hands
    out Flask's read-only null session instead.
    """
    from flask import Request, Response
    from flask.sessions import SessionInterface, SessionMixin

    class _NoSessions(SessionInterface):
        def open_session(self, app: Flask, request: Request) -> None:
            return None  # Flask then uses make_null_session()

        def save_session(
            self, app: Flask, session: SessionMixin, response: Response
        ) -> None:
            return None

    app.session_interface = _NoSessions()


def _configure_logging(app: Flask) -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each of its plugins at INFO on every start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _enable_sqlite_wal(app: Flask) -> None:
    """WAL lets readers proceed while the one writer commits; busy_timeout waits."""
    from sqlalchemy import event

    from webapp.extensions import db

    synchronous = app.config.get("SQLITE_SYNCHRONOUS", "FULL")
    if synchronous not in SQLITE_SYNCHRONOUS_MODES:
        raise ConfigurationError(
            "SQLITE_SYNCHRONOUS must be one of " + ", ".join(SQLITE_SYNCHRONOUS_MODES)
        )
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA synchronous={synchronous}")  # checked above
            cursor.close()
