"""Webhook settings, read from the app config or else the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from flask import Flask, current_app


def _value(app: Flask, name: str, default: str) -> str:
    configured = app.config.get(name)
    if configured is not None:
        return str(configured)
    return os.environ.get(name) or default


def _flag(app: Flask, name: str) -> bool:
    return _value(app, name, "0").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class WebhookSettings:
    """Everything the webhook services read from the configuration."""

    timeout: float  # connect and read, each (WEBHOOK_TIMEOUT)
    max_attempts: int  # attempts per delivery, the first included
    backoff_base: float  # first retry after about this many seconds
    disable_after: float  # seconds of nothing but failures before disabling
    allow_http: bool  # http:// targets in production
    allow_private: bool  # loopback, private, link-local targets
    production: bool
    poll_interval: float  # how often each process looks for due deliveries
    lease: float  # how long a process owns a webhook without renewing
    concurrency: int  # webhooks one process sends to at once
    retention: float  # finished deliveries are pruned after this many seconds

    @classmethod
    def of(cls, app: Flask | None = None) -> WebhookSettings:
        """The settings of ``app`` (default: the current app)."""
        app = app or current_app._get_current_object()  # type: ignore[attr-defined]
        timeout = float(_value(app, "WEBHOOK_TIMEOUT", "5"))
        return cls(
            timeout=timeout,
            max_attempts=max(1, int(_value(app, "WEBHOOK_MAX_ATTEMPTS", "8"))),
            backoff_base=float(_value(app, "WEBHOOK_BACKOFF_BASE", "30")),
            disable_after=float(_value(app, "WEBHOOK_DISABLE_AFTER", "86400")),
            allow_http=_flag(app, "WEBHOOK_ALLOW_HTTP"),
            allow_private=_flag(app, "WEBHOOK_ALLOW_PRIVATE"),
            production=app.config.get("ENV_NAME") == "production",
            poll_interval=float(_value(app, "WEBHOOK_POLL_INTERVAL", "1")),
            # Longer than the slowest attempt (connect + read + a margin), so a
            # live sender never loses its webhook mid-attempt.
            lease=float(_value(app, "WEBHOOK_LEASE", str(3 * timeout + 15))),
            concurrency=max(1, int(_value(app, "WEBHOOK_CONCURRENCY", "8"))),
            retention=float(_value(app, "WEBHOOK_RETENTION", str(7 * 24 * 3600))),
        )
