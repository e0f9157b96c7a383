"""Webhook settings, as config.py read them from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app


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
    secret_grace: float = 86400.0  # the old secret signs too after a rotation

    @classmethod
    def of(cls, app: Flask | None = None) -> WebhookSettings:
        """The settings of ``app`` (default: the current app)."""
        config = (app or current_app).config
        return cls(
            timeout=float(config["WEBHOOK_TIMEOUT"]),
            max_attempts=max(1, int(config["WEBHOOK_MAX_ATTEMPTS"])),
            backoff_base=float(config["WEBHOOK_BACKOFF_BASE"]),
            disable_after=float(config["WEBHOOK_DISABLE_AFTER"]),
            allow_http=bool(config["WEBHOOK_ALLOW_HTTP"]),
            allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE"]),
            production=config.get("ENV_NAME") == "production",
            poll_interval=float(config["WEBHOOK_POLL_INTERVAL"]),
            lease=float(config["WEBHOOK_LEASE"]),
            concurrency=max(1, int(config["WEBHOOK_CONCURRENCY"])),
            retention=float(config["WEBHOOK_RETENTION"]),
            secret_grace=float(config["WEBHOOK_SECRET_GRACE"]),
        )
