"""Engagements: who may see and manage them, their counters and broadcasts.

Every change is broadcast to ``tenant:<client>``, the room of the client tenant's
connections, which its MSP's users are in too; MSP-only alerts go to ``msp:<id>``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Executable

from webapp.auth.identity import Identity
from webapp.errors import Conflict, Forbidden, NotFound, ValidationFailed
from webapp.extensions import db
from webapp.models import Engagement, InteractionCounter
from webapp.rooms import msp_room, tenant_room
from webapp.services.delivery import publish_request, publisher
from webapp.services.tenancy.visibility import get_visible_tenant, visible_tenant_ids

NAMESPACE = "/engagement"


def _require_manager(identity: Identity) -> None:
    """Admins and the MSP's own staff (users or keys) manage engagements."""
    if not (identity.is_admin or identity.is_msp_staff):
        raise Forbidden("only the MSP's staff may manage engagements")


def get_visible_engagement(identity: Identity, engagement_id: int) -> Engagement:
    """The engagement if the caller may see its client tenant; 404 otherwise."""
    engagement = db.session.get(Engagement, engagement_id)
    if engagement is None or not identity.can_see_tenant(engagement.client_tenant_id):
        raise NotFound("engagement not found")
    return engagement


def list_engagements(
    identity: Identity, status: str | None = None, client_tenant_id: int | None = None
) -> list[Engagement]:
    """Engagements of every client tenant the caller may see, oldest first."""
    query = select(Engagement).where(
        Engagement.client_tenant_id.in_(visible_tenant_ids(identity, client_tenant_id))
    )
    if status is not None:
        query = query.where(Engagement.status == status)
    return list(db.session.scalars(query.order_by(Engagement.id)))


def create_engagement(
    identity: Identity, client_tenant_id: int, title: str, status: str = "active"
) -> Engagement:
    """Open an engagement between a client tenant and its MSP; broadcast it."""
    _require_manager(identity)
    client = get_visible_tenant(identity, client_tenant_id)
    if client.kind != "client" or client.parent_id is None:
        raise ValidationFailed(
            "client_tenant_id must be a client tenant of an MSP",
            details=[{"field": "client_tenant_id"}],
        )
    engagement = Engagement(
        msp_tenant_id=client.parent_id,
        client_tenant_id=client.id,
        title=title,
        status=status,
    )
    db.session.add(engagement)
    db.session.commit()
    broadcast_engagement(engagement, "created")
    return engagement


def update_engagement(
    identity: Identity,
    engagement_id: int,
    title: str | None = None,
    status: str | None = None,
) -> Engagement:
    """Change the title or status (active/paused); archived ones are final."""
    _require_manager(identity)
    engagement = get_visible_engagement(identity, engagement_id)
    if engagement.status == "archived":
        raise Conflict("the engagement is archived", code="engagement_archived")
    if title is not None:
        engagement.title = title
    if status is not None:
        engagement.status = status
    db.session.commit()
    broadcast_engagement(engagement, "updated")
    return engagement


def archive_engagement(identity: Identity, engagement_id: int) -> Engagement:
    """Archive (idempotently): it stays readable but takes no more interactions."""
    _require_manager(identity)
    engagement = get_visible_engagement(identity, engagement_id)
    if engagement.status != "archived":
        engagement.status = "archived"
        db.session.commit()
        broadcast_engagement(engagement, "archived")
    return engagement


def record_interaction(
    identity: Identity, engagement_id: int, kind: str
) -> dict[str, Any]:
    """Count one interaction atomically in the database, then broadcast counters.

    ``counters`` is read in the increment's transaction: every value is exact as of
    this increment. Concurrent increments may reach clients in either order; the
    counters only grow, so a client keeps the largest value it saw per kind.
    """
    engagement = get_visible_engagement(identity, engagement_id)
    if engagement.status != "active":
        raise Conflict(
            f"the engagement is {engagement.status}", code="engagement_not_active"
        )
    count = db.session.execute(_increment(engagement.id, kind)).scalar_one()
    rows = db.session.execute(
        select(InteractionCounter.kind, InteractionCounter.count).where(
            InteractionCounter.engagement_id == engagement.id
        )
    )
    counters: dict[str, int] = {name: value for name, value in rows}
    # Commit the counter before publishing: the publisher commits the event in
    # its own transaction, and SQLite's write lock must not wait on its lock.
    db.session.commit()
    update = {
        "engagement_id": engagement.id,
        "kind": kind,
        "count": count,
        "counters": counters,
    }
    room = tenant_room(engagement.client_tenant_id)
    publisher.publish_to_room(
        NAMESPACE, "interaction_update", update, room, engagement.client_tenant_id
    )
    broadcast_engagement(engagement, "interaction")
    return update


def _increment(engagement_id: int, kind: str) -> Executable:
    """``INSERT ... ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count``."""
    table = InteractionCounter.__table__
    dialect = db.session.get_bind().dialect.name
    statement: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        statement = sqlite.insert(table)
    elif dialect == "postgresql":
        statement = postgresql.insert(table)
    else:
        raise RuntimeError(f"no atomic counter upsert for {dialect!r}")
    statement = statement.values(engagement_id=engagement_id, kind=kind, count=1)
    return statement.on_conflict_do_update(
        index_elements=[table.c.engagement_id, table.c.kind],
        set_={"count": table.c.count + 1},
    ).returning(table.c.count)


def raise_alert(
    identity: Identity,
    engagement_id: int,
    alert: dict[str, Any],
    msp_only: bool = False,
) -> publish_request.PublishResult:
    """Alert the client tenant's room, or with ``msp_only`` the MSP's staff only."""
    _require_alerter(identity, msp_only)
    engagement = get_visible_engagement(identity, engagement_id)
    data = {**alert, "engagement_id": engagement.id}
    if msp_only:
        room, tenant_id = msp_room(engagement.msp_tenant_id), engagement.msp_tenant_id
    else:
        room, tenant_id = (
            tenant_room(engagement.client_tenant_id),
            engagement.client_tenant_id,
        )
    return publisher.publish_to_room(NAMESPACE, "alert", data, room, tenant_id)


def _require_alerter(identity: Identity, msp_only: bool) -> None:
    """MSP staff raise any alert; a client tenant's integration only public ones."""
    if identity.is_admin or identity.is_msp_staff:
        return
    if msp_only or identity.role != "integration":
        raise Forbidden("you may not raise this alert")


def broadcast_engagement(engagement: Engagement, action: str) -> None:
    """Publish ``engagement_update`` with the engagement's state (after a commit)."""
    publisher.publish_to_room(
        NAMESPACE,
        "engagement_update",
        {"engagement": engagement.to_dict(), "action": action},
        tenant_room(engagement.client_tenant_id),
        engagement.client_tenant_id,
    )
