"""REST endpoints for security events and detections.

``GET /api/events`` (the event-log history, filterable by ``severity`` and
``since``) lives in ``api/history.py``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from webapp.api.schemas import DetectionBody, SecurityEventBody, parse_body
from webapp.auth.guards import authenticated, current_identity
from webapp.event_registry import PUBLISHERS
from webapp.services.events import security_events

bp = Blueprint("security", __name__)


@bp.post("/api/events")
@authenticated(allow_api_key=True, roles=PUBLISHERS)
def create_security_event() -> tuple[dict[str, Any], int]:
    """Record a security event and broadcast ``new_event``."""
    body = parse_body(SecurityEventBody)
    return security_events.record_event(current_identity(), **body.model_dump()), 201


@bp.post("/api/detections")
@authenticated(allow_api_key=True, roles=PUBLISHERS)
def create_detection() -> tuple[dict[str, Any], int]:
    """Record a detection and broadcast ``detection``."""
    body = parse_body(DetectionBody)
    return security_events.record_detection(
        current_identity(),
        event_id=body.event_id,
        label=body.label,
        confidence=body.confidence,
        bbox=body.bbox,
    ), 201
