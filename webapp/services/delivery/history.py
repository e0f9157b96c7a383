"""Event history, scoped to what the caller may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, not_, or_, select

from webapp.auth.identity import Identity
from webapp.extensions import db
from webapp.models import Event
from webapp.rooms import msp_room, user_room
from webapp.services.tenancy.visibility import visible_tenant_ids

MAX_LIMIT = 1000


def visible_events_query(
    identity: Identity, tenant_id: int | None = None
) -> Select[tuple[Event]]:
    """Events of the caller's tenants, minus other users' and other MSPs' rooms."""
    scope = visible_tenant_ids(identity, tenant_id)
    query = select(Event).where(Event.tenant_id.in_(scope))
    if identity.role == "integration" or identity.is_admin:
        return query
    own_user_room = user_room(identity.user_id) if identity.user_id else None
    own_msp_room = msp_room(identity.tenant_id) if identity.role == "msp" else None
    return query.where(
        and_(
            or_(not_(Event.room.like("user:%")), Event.room == own_user_room),
            or_(not_(Event.room.like("msp:%")), Event.room == own_msp_room),
        )
    )


def list_events(
    identity: Identity,
    *,
    namespace: str | None = None,
    room: str | None = None,
    since_id: int = 0,
    limit: int = 100,
    event_type: str | None = None,
    severity: str | None = None,
    since: datetime | None = None,
    tenant_id: int | None = None,
) -> list[dict[str, Any]]:
    """The caller's history, oldest first.

    ``severity`` matches ``data.severity`` (``new_event`` rows, alerts); ``since``
    keeps events created at or after that time.
    """
    query = visible_events_query(identity, tenant_id).where(Event.id > since_id)
    if namespace:
        query = query.where(Event.namespace == namespace)
    if room:
        query = query.where(Event.room == room)
    if event_type:
        query = query.where(Event.type == event_type)
    if severity:
        query = query.where(Event.data["severity"].as_string() == severity)
    if since is not None:
        query = query.where(Event.created_at >= since)
    query = query.order_by(Event.id).limit(max(1, min(limit, MAX_LIMIT)))
    return [event.envelope() for event in db.session.scalars(query)]
