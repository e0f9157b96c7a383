"""Security events and detections: validate, persist, then publish to the tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from webapp.auth.identity import Identity
from webapp.errors import NotFound
from webapp.event_registry import BoundingBox
from webapp.extensions import db
from webapp.models import Detection, SecurityEvent
from webapp.models.time import utcnow
from webapp.rooms import tenant_room
from webapp.services.delivery import publisher
from webapp.services.tenancy.visibility import get_visible_tenant


def write_tenant_id(identity: Identity, requested: int | None) -> int:
    """The tenant a write goes to: the caller's own, or one it may see (else 404)."""
    if requested is None:
        return identity.tenant_id
    return get_visible_tenant(identity, requested).id


def record_event(
    identity: Identity,
    *,
    severity: str,
    summary: str,
    source: str,
    camera_id: str | None = None,
    occurred_at: datetime | None = None,
    tenant_id: int | None = None,
) -> dict[str, Any]:
    """Persist a security event and send ``new_event`` to its tenant room."""
    record = SecurityEvent(
        tenant_id=write_tenant_id(identity, tenant_id),
        severity=severity,
        summary=summary,
        source=source,
        camera_id=camera_id,
        occurred_at=_as_utc(occurred_at) if occurred_at else utcnow(),
    )
    return _persist_and_publish(record, "new_event")


def record_detection(
    identity: Identity,
    *,
    event_id: int,
    label: str,
    confidence: float,
    bbox: BoundingBox | None = None,
) -> dict[str, Any]:
    """Persist a detection of a visible security event and send ``detection``."""
    event = db.session.get(SecurityEvent, event_id)
    if event is None or not identity.can_see_tenant(event.tenant_id):
        raise NotFound("security event not found")
    record = Detection(
        tenant_id=event.tenant_id,
        event_id=event.id,
        label=label,
        confidence=confidence,
        bbox=bbox.model_dump() if bbox else None,
    )
    return _persist_and_publish(record, "detection")


def _persist_and_publish(
    record: SecurityEvent | Detection, event_name: str
) -> dict[str, Any]:
    # Commit first, then publish: flushing inside the publisher's lock would hold
    # SQLite's write lock while waiting for it (and block the eventlet hub).
    db.session.add(record)
    db.session.commit()
    body = record.to_dict()
    result = publisher.publish_to_room(
        "/events", event_name, body, tenant_room(record.tenant_id), record.tenant_id
    )
    return {
        **body,
        "event": {"id": result.envelope["id"], "room": result.envelope["room"]},
    }


def _as_utc(value: datetime) -> datetime:
    """Naive times are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
