"""Dashboard alerts: raise, list, acknowledge and resolve; each change is published."""

from __future__ import annotations

from sqlalchemy import select

from webapp.auth.identity import Identity
from webapp.errors import Conflict, NotFound
from webapp.extensions import db
from webapp.models import Alert
from webapp.models.alert import ALERT_TRANSITIONS
from webapp.models.time import utcnow
from webapp.rooms import tenant_room
from webapp.services import publisher
from webapp.services.tenancy import get_visible_tenant, visible_tenant_ids

NAMESPACE = "/dashboard"


def owning_tenant_id(identity: Identity, tenant_id: int | None) -> int:
    """The tenant a new item belongs to: the caller's, or one it may see (else 404)."""
    if tenant_id is None:
        return identity.tenant_id
    return get_visible_tenant(identity, tenant_id).id


def tenant_scope(identity: Identity, tenant_id: int | None) -> list[int]:
    """Tenants a listing covers: one the caller may see, or all it may see."""
    if tenant_id is not None:
        return [get_visible_tenant(identity, tenant_id).id]
    return visible_tenant_ids(identity)


def author(identity: Identity) -> str:
    """How the creator of an item is shown."""
    return identity.name or f"{identity.role}:{identity.user_id or identity.api_key_id}"


def check_transition(
    current: str, wanted: str, allowed: dict[str, tuple[str, ...]]
) -> None:
    """Refuse a status change the lifecycle does not allow (409)."""
    if wanted not in allowed.get(current, ()):
        raise Conflict(
            f"cannot move from {current!r} to {wanted!r}",
            code="invalid_transition",
            details={"from": current, "to": wanted, "allowed": list(allowed[current])},
        )


def create_alert(
    identity: Identity,
    *,
    severity: str,
    title: str,
    message: str = "",
    tenant_id: int | None = None,
) -> Alert:
    """Store an open alert and publish it to the tenant's dashboards."""
    alert = Alert(
        tenant_id=owning_tenant_id(identity, tenant_id),
        severity=severity,
        title=title,
        message=message,
        status="open",
        created_by=author(identity),
    )
    db.session.add(alert)
    db.session.commit()
    publish_alert(alert)
    return alert


def list_alerts(
    identity: Identity,
    *,
    status: str | None = None,
    tenant_id: int | None = None,
    limit: int = 100,
) -> list[Alert]:
    """The caller's alerts, newest first."""
    scope = tenant_scope(identity, tenant_id)
    query = select(Alert).where(Alert.tenant_id.in_(scope))
    if status:
        query = query.where(Alert.status == status)
    query = query.order_by(Alert.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def get_alert(identity: Identity, alert_id: int) -> Alert:
    """One alert the caller may see; 404 otherwise (also for another tenant's)."""
    alert = db.session.get(Alert, alert_id)
    if alert is None or not identity.can_see_tenant(alert.tenant_id):
        raise NotFound("alert not found")
    return alert


def change_alert_status(identity: Identity, alert_id: int, status: str) -> Alert:
    """Acknowledge or resolve an alert (open -> acknowledged -> resolved)."""
    alert = get_alert(identity, alert_id)
    check_transition(alert.status, status, ALERT_TRANSITIONS)
    alert.status = status
    alert.updated_at = utcnow()
    db.session.commit()
    publish_alert(alert)
    return alert


def publish_alert(alert: Alert) -> None:
    """Send the alert's current state to its tenant's dashboards."""
    publisher.publish_to_room(
        NAMESPACE,
        "alert",
        alert.to_dict(),
        tenant_room(alert.tenant_id),
        alert.tenant_id,
    )
