"""GET /api/events: the caller's event history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from webapp.api.schemas import int_arg
from webapp.auth.guards import authenticated, current_identity
from webapp.services import history

bp = Blueprint("history", __name__, url_prefix="/api/events")


@bp.get("")
@authenticated(allow_api_key=True)
def list_events() -> dict[str, Any]:
    """Events after ``since_id``, oldest first."""
    events = history.list_events(
        current_identity(),
        namespace=request.args.get("namespace") or None,
        room=request.args.get("room") or None,
        since_id=int_arg("since_id", 0),
        limit=int_arg("limit", 100, minimum=1),
        event_type=request.args.get("type") or None,
    )
    return {"events": events, "count": len(events)}
