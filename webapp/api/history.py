"""GET /api/events: the caller's event history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from webapp.api.schemas import EventsQuery, parse_query
from webapp.auth.guards import authenticated, current_identity
from webapp.services.delivery import history

bp = Blueprint("history", __name__, url_prefix="/api/events")


@bp.get("")
@authenticated(allow_api_key=True)
def list_events() -> dict[str, Any]:
    """Events after ``since_id``, oldest first."""
    query = parse_query(EventsQuery)
    events = history.list_events(
        current_identity(),
        namespace=query.namespace,
        room=query.room,
        since_id=query.since_id,
        limit=query.limit,
        event_type=query.type,
        severity=query.severity,
        since=query.since,
        tenant_id=query.tenant_id,
    )
    return {"events": events, "count": len(events)}
