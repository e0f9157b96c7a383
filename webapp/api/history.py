"""GET /api/events: the caller's event history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request

from webapp.api.schemas import int_arg
from webapp.auth.guards import authenticated, current_identity
from webapp.errors import ValidationFailed
from webapp.services.delivery import history

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
        severity=request.args.get("severity") or None,
        since=_time_arg("since"),
        tenant_id=int_arg("tenant_id", 0, minimum=1) or None,
    )
    return {"events": events, "count": len(events)}


def _time_arg(name: str) -> datetime | None:
    """An ISO 8601 query argument as an aware UTC time, or a 400 that names it."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise ValidationFailed(
            f"{name} must be an ISO 8601 time",
            details=[{"field": name, "message": "not an ISO 8601 time"}],
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
