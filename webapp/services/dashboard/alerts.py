"""Dashboard alerts: raise, list, acknowledge and resolve; each change is published."""

from __future__ import annotations

from webapp.auth.identity import Identity
from webapp.extensions import db
from webapp.models import Alert
from webapp.models.alert import ALERT_TRANSITIONS
from webapp.models.time import utcnow
from webapp.rooms import tenant_room
from webapp.services.delivery import publisher
from webapp.services.tenancy.scoped_items import (
    author,
    check_transition,
    get_item,
    list_items,
    owning_tenant_id,
)

NAMESPACE = "/dashboard"


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
    return list_items(Alert, identity, status=status, tenant_id=tenant_id, limit=limit)


def get_alert(identity: Identity, alert_id: int) -> Alert:
    """One alert the caller may see; 404 otherwise (also for another tenant's)."""
    return get_item(Alert, identity, alert_id, "alert")


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
