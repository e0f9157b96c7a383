"""Dependency checks for /ready."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import text

from webapp.extensions import db
from webapp.services.cluster.message_queue import ping


def check_dependencies() -> dict[str, dict[str, Any]]:
    """Ping the database and, when configured, the message queue."""
    checks: dict[str, dict[str, Any]] = {"database": _check_database()}
    if current_app.config.get("MESSAGE_QUEUE_URL"):
        checks["message_queue"] = ping(current_app.config["MESSAGE_QUEUE_URL"])
    return checks


def _check_database() -> dict[str, Any]:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # any driver error means "not ready"
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}
