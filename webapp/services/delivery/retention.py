"""Event retention: prune events older than EVENT_RETENTION.

Pruning deletes a prefix of the log (every id up to the newest expired one), so a
client whose ``last_event_id`` is older than the oldest kept event may have missed
pruned events: replay then says ``recovered: false`` rather than replay part of
the gap. An in-flight replay reads pages by id and never depends on deleted rows.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import delete, func, select

from webapp.extensions import db
from webapp.models import Event
from webapp.models.time import utcnow
from webapp.services.periodic import run_periodically

logger = logging.getLogger(__name__)


def prune_events(retention_seconds: int | None = None) -> int:
    """Delete events older than the retention period; return how many."""
    seconds = retention_seconds or current_app.config["EVENT_RETENTION"]
    cutoff = utcnow() - timedelta(seconds=seconds)
    newest_old = db.session.scalar(
        select(func.max(Event.id)).where(Event.created_at < cutoff)
    )
    if newest_old is None:
        return 0
    result = db.session.execute(delete(Event).where(Event.id <= newest_old))
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def oldest_kept_id() -> int | None:
    """The smallest id still in the log."""
    return db.session.scalar(select(func.min(Event.id)))


def start_pruning(app: Flask) -> None:
    """Prune at PRUNE_INTERVAL in a background task of the server process."""
    run_periodically(app, app.config["PRUNE_INTERVAL"], _prune_and_log, "pruning")


def _prune_and_log() -> None:
    removed = prune_events()
    if removed:
        logger.info("pruned %d expired events", removed)
