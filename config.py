"""Configuration classes; every setting comes from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

BASE_DIR = os.path.abspath(os.path.dirname(__file__))


def _env_int(name: str, default: int) -> int:
    """Read an integer from the environment, falling back to ``default``."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    """Read a float from the environment, falling back to ``default``."""
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean flag (1/true/yes/on) from the environment."""
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list from the environment."""
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_url(default: str) -> str:
    """Return DATABASE_URL normalised for SQLAlchemy (Heroku still says postgres://)."""
    url = os.environ.get("DATABASE_URL") or default
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url


class ConfigurationError(RuntimeError):
    """A setting makes the app unsafe to start; the message names every one."""


# An exact browser origin: scheme, host (name, IPv4 or [IPv6]) and optional port.
ORIGIN_PATTERN = re.compile(
    r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?"
)


def is_origin(value: str) -> bool:
    """True for an exact browser origin: ``http(s)://host[:port]``, nothing more."""
    return ORIGIN_PATTERN.fullmatch(value) is not None


def production_problems(settings: Mapping[str, Any]) -> list[str]:
    """Every missing or unsafe production setting, one phrase each."""
    problems = [
        f"{name} is not set"
        for name in ("SECRET_KEY", "JWT_SECRET_KEY")
        if not os.environ.get(name)
    ]
    origins = settings.get("CORS_ALLOWED_ORIGINS") or []
    if not origins:
        problems.append(
            "CORS_ALLOWED_ORIGINS is not set (list your front ends' origins, "
            "comma-separated)"
        )
    elif "*" in origins:
        problems.append("CORS_ALLOWED_ORIGINS must not be *")
    else:
        malformed = [origin for origin in origins if not is_origin(origin)]
        if malformed:
            problems.append(
                "CORS_ALLOWED_ORIGINS entries must be scheme://host[:port], not "
                + ", ".join(malformed)
            )
    if os.environ.get("PASSWORD_HASH_PROFILE") == "fast":
        problems.append("PASSWORD_HASH_PROFILE=fast is for tests only")
    problems.extend(admin_ui_problems(settings))
    return problems


# Shortest ADMIN_UI_PASSWORD production accepts (the UI's login is not throttled).
ADMIN_UI_MIN_PASSWORD = 12


def admin_ui_problems(settings: Mapping[str, Any]) -> list[str]:
    """Why ADMIN_UI may not be on in production: missing or weak credentials."""
    if not settings.get("ADMIN_UI"):
        return []
    if not (settings.get("ADMIN_UI_USERNAME") and settings.get("ADMIN_UI_PASSWORD")):
        return ["ADMIN_UI=1 needs ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD"]
    if len(settings["ADMIN_UI_PASSWORD"]) < ADMIN_UI_MIN_PASSWORD:
        shortest = ADMIN_UI_MIN_PASSWORD
        return [f"ADMIN_UI_PASSWORD must be at least {shortest} characters"]
    return []


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = (
        os.environ.get("SECRET_KEY") or "dev-secret-key-change-me-in-production"
    )
    JWT_SECRET_KEY = (
        os.environ.get("JWT_SECRET_KEY")
        or "dev-jwt-secret-change-me-in-production-please"
    )
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(seconds=_env_int("ACCESS_TOKEN_TTL", 900))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(
        seconds=_env_int("REFRESH_TOKEN_TTL", 30 * 24 * 3600)
    )
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ERROR_MESSAGE_KEY = "message"

    SQLALCHEMY_DATABASE_URI = database_url(
        "sqlite:///" + os.path.join(BASE_DIR, "switchboard.db")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 10)
    # Pooled connections are replaced after this many seconds instead of being
    # pinged on every checkout (a round trip per request). After a database
    # restart the first statement on a dead connection fails (503) and SQLAlchemy
    # then discards the whole pool; DB_POOL_PRE_PING=1 brings the ping back, e.g.
    # behind a proxy that silently drops idle connections.
    DB_POOL_RECYCLE = _env_int("DB_POOL_RECYCLE", 1800)
    DB_POOL_PRE_PING = _env_bool("DB_POOL_PRE_PING", False)
    # SQLite's PRAGMA synchronous. FULL syncs the WAL on every commit (a commit
    # survives power loss); NORMAL syncs it only at checkpoints (a commit survives
    # a process crash, not a power cut) and takes the fsync off every publish group.
    SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS", "FULL").upper()

    MESSAGE_QUEUE_URL = os.environ.get("MESSAGE_QUEUE_URL") or None
    MESSAGE_QUEUE_CHANNEL = os.environ.get("MESSAGE_QUEUE_CHANNEL", "switchboard")
    # "1": only emit through the queue (external publishers); "0": also listen.
    # Unset: listen only in the server process (wsgi.py patched for its async mode).
    MESSAGE_QUEUE_WRITE_ONLY = (
        _env_bool("MESSAGE_QUEUE_WRITE_ONLY")
        if os.environ.get("MESSAGE_QUEUE_WRITE_ONLY")
        else None
    )
    # Longest wait between attempts to resubscribe after losing Redis (seconds).
    MESSAGE_QUEUE_RETRY_MAX = _env_float("MESSAGE_QUEUE_RETRY_MAX", 5.0)
    # A dead process's connections leave the cluster-wide counts after this long.
    CLUSTER_HEARTBEAT_TTL = _env_float("CLUSTER_HEARTBEAT_TTL", 15.0)
    CORS_ALLOWED_ORIGINS = _env_list("CORS_ALLOWED_ORIGINS", ["*"])
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet")
    PING_INTERVAL = _env_float("PING_INTERVAL", 25.0)
    PING_TIMEOUT = _env_float("PING_TIMEOUT", 20.0)
    MAX_PAYLOAD_BYTES = _env_int("MAX_PAYLOAD_BYTES", 64 * 1024)
    # Off by default: eventlet compresses every frame for every client once a
    # browser offers permessage-deflate (6x memory per connection, ~5x slower
    # fan-out, measured; see docs/performance.md).
    WEBSOCKET_COMPRESSION = _env_bool("WEBSOCKET_COMPRESSION", False)

    PORT = _env_int("PORT", 5000)
    HOST = os.environ.get("HOST", "0.0.0.0")
    MAX_CONNECTIONS = _env_int("MAX_CONNECTIONS", 10000)
    LISTEN_BACKLOG = _env_int("LISTEN_BACKLOG", 2048)

    MAX_CONNECTIONS_PER_USER = _env_int("MAX_CONNECTIONS_PER_USER", 5)
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 10)
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none).
    PROXY_FIX_HOPS = _env_int("PROXY_FIX_HOPS", 0)
    LOGIN_FAILURE_WINDOW = _env_int("LOGIN_FAILURE_WINDOW", 300)
    CLIENT_EVENTS_PER_SECOND = _env_float("CLIENT_EVENTS_PER_SECOND", 20.0)
    CLIENT_EVENTS_BURST = _env_int("CLIENT_EVENTS_BURST", 40)
    MAX_ERRORS_PER_CONNECTION = _env_int("MAX_ERRORS_PER_CONNECTION", 50)
    SLOW_CLIENT_QUEUE_LIMIT = _env_int("SLOW_CLIENT_QUEUE_LIMIT", 10000)
    SLOW_CLIENT_CHECK_INTERVAL = _env_float("SLOW_CLIENT_CHECK_INTERVAL", 5.0)

    # Deepest JSON nesting accepted in a REST body or a socket event.
    MAX_JSON_DEPTH = _env_int("MAX_JSON_DEPTH", 32)
    # An engine.io session with no accepted namespace after this long is closed.
    CONNECT_TIMEOUT = _env_float("CONNECT_TIMEOUT", 10.0)
    # A connection whose unsent packets exceed this many bytes on two checks is closed.
    SLOW_CLIENT_QUEUE_BYTES = _env_int("SLOW_CLIENT_QUEUE_BYTES", 4 * 1024 * 1024)

    REPLAY_MAX_EVENTS = _env_int("REPLAY_MAX_EVENTS", 10000)
    REPLAY_MAX_AGE = _env_int("REPLAY_MAX_AGE", 24 * 3600)
    EVENT_RETENTION = _env_int("EVENT_RETENTION", 7 * 24 * 3600)
    PRUNE_INTERVAL = _env_int("PRUNE_INTERVAL", 3600)
    IDEMPOTENCY_WINDOW = _env_int("IDEMPOTENCY_WINDOW", 24 * 3600)
    PUBLISH_BATCH_MAX = _env_int("PUBLISH_BATCH_MAX", 500)
    # Most events one group commit persists; 0 in PUBLISH_GROUP_COMMIT publishes
    # each event in its own transaction (for comparison).
    PUBLISH_GROUP_MAX = _env_int("PUBLISH_GROUP_MAX", 500)
    PUBLISH_GROUP_COMMIT = _env_bool("PUBLISH_GROUP_COMMIT", True)
    # Longest life of a cached user, tenant or API key (a safety net: changes
    # made through the app invalidate the cache at once, cluster-wide).
    AUTH_CACHE_TTL = _env_float("AUTH_CACHE_TTL", 60.0)
    # How often each process closes its sockets of deactivated users and revoked
    # tokens that the cluster-wide close could not reach (Redis down at the time).
    CONNECTION_AUDIT_INTERVAL = _env_float("CONNECTION_AUDIT_INTERVAL", 10.0)
    # Largest REST request body (a 500-event batch fits); larger ones get 413.
    MAX_CONTENT_LENGTH = _env_int("MAX_REQUEST_BYTES", 4 * 1024 * 1024)

    ANALYTICS_INTERVAL = _env_float("ANALYTICS_INTERVAL", 30.0)
    AGENT_EVENT_MAX_STRING = _env_int("AGENT_EVENT_MAX_STRING", 4000)
    AGENT_EVENT_MAX_BYTES = _env_int("AGENT_EVENT_MAX_BYTES", 16384)
    SOCKETIO_CLIENT_DIST = os.environ.get("SOCKETIO_CLIENT_DIST") or None

    # The Socket.IO Admin UI at /socketio-admin/ (docs/operations.md): never on
    # without both credentials. Read-only by default: its "emit" would bypass
    # the publisher (no id, no log, no tenant check).
    ADMIN_UI = _env_bool("ADMIN_UI")
    ADMIN_UI_USERNAME = os.environ.get("ADMIN_UI_USERNAME") or None
    ADMIN_UI_PASSWORD = os.environ.get("ADMIN_UI_PASSWORD") or None
    ADMIN_UI_MODE = os.environ.get("ADMIN_UI_MODE", "development")
    ADMIN_UI_READ_ONLY = _env_bool("ADMIN_UI_READ_ONLY", True)
    # Seconds between the database/Redis probes behind switchboard_dependency_up.
    DEPENDENCY_PROBE_INTERVAL = _env_float("DEPENDENCY_PROBE_INTERVAL", 10.0)

    # Webhooks (docs/webhooks.md): attempts, backoff and what a target may be.
    WEBHOOK_TIMEOUT = _env_float("WEBHOOK_TIMEOUT", 5.0)  # connect and read, each
    WEBHOOK_MAX_ATTEMPTS = _env_int("WEBHOOK_MAX_ATTEMPTS", 8)
    WEBHOOK_BACKOFF_BASE = _env_float("WEBHOOK_BACKOFF_BASE", 30.0)
    WEBHOOK_DISABLE_AFTER = _env_float("WEBHOOK_DISABLE_AFTER", 86400.0)
    WEBHOOK_ALLOW_HTTP = _env_bool("WEBHOOK_ALLOW_HTTP")
    WEBHOOK_ALLOW_PRIVATE = _env_bool("WEBHOOK_ALLOW_PRIVATE")
    WEBHOOK_POLL_INTERVAL = _env_float("WEBHOOK_POLL_INTERVAL", 1.0)
    # Longer than the slowest attempt (connect + read + a margin), so a live
    # sender never loses its webhook mid-attempt.
    WEBHOOK_LEASE = _env_float("WEBHOOK_LEASE", 3 * WEBHOOK_TIMEOUT + 15)
    WEBHOOK_CONCURRENCY = _env_int("WEBHOOK_CONCURRENCY", 8)
    WEBHOOK_RETENTION = _env_float("WEBHOOK_RETENTION", 7 * 24 * 3600.0)
    # After rotate-secret the old secret signs too (a second v1=) for this long.
    WEBHOOK_SECRET_GRACE = _env_float("WEBHOOK_SECRET_GRACE", 86400.0)

    ENV_NAME = "base"
    TESTING = False
    DEBUG = False

    @classmethod
    def init_app(cls, app: Flask) -> None:
        """Hook for environment-specific checks; nothing to do by default."""


class DevelopmentConfig(Config):
    """Local development: SQLite file next to the code."""

    ENV_NAME = "development"
    DEBUG = False


class TestingConfig(Config):
    """In-process unit tests: in-memory database, no message queue."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = database_url("sqlite://")
    MESSAGE_QUEUE_URL = None
    SOCKETIO_ASYNC_MODE = "threading"


class ProductionConfig(Config):
    """Production: secrets and CORS origins must be given explicitly."""

    ENV_NAME = "production"
    CORS_ALLOWED_ORIGINS = _env_list("CORS_ALLOWED_ORIGINS", [])
    # Counts only, unless asked: development mode reports every event of every
    # tenant to the UI, once per recipient, through the message queue.
    ADMIN_UI_MODE = os.environ.get("ADMIN_UI_MODE", "production")

    @classmethod
    def init_app(cls, app: Flask) -> None:
        """Refuse to start on an unsafe setting, naming every one at once."""
        problems = production_problems(app.config)
        if problems:
            raise ConfigurationError(
                "production refuses to start: " + "; ".join(problems)
            )


config: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
    "default": DevelopmentConfig,
}
