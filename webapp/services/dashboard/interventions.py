"""Interventions: create, list, move open -> in_progress -> done; each is published."""

from __future__ import annotations

from webapp.auth.identity import Identity
from webapp.errors import ValidationFailed
from webapp.extensions import db
from webapp.models import Alert, Intervention
from webapp.models.intervention import INTERVENTION_TRANSITIONS
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


def create_intervention(
    identity: Identity,
    *,
    title: str,
    description: str = "",
    assignee: str = "",
    alert_id: int | None = None,
    tenant_id: int | None = None,
) -> Intervention:
    """Store an open intervention and publish it to the tenant's dashboards."""
    owner = owning_tenant_id(identity, tenant_id)
    if alert_id is not None:
        alert = db.session.get(Alert, alert_id)
        if alert is None or alert.tenant_id != owner:
            raise ValidationFailed(
                "alert_id must be an alert of the same tenant",
                details=[{"field": "alert_id"}],
            )
    intervention = Intervention(
        tenant_id=owner,
        alert_id=alert_id,
        title=title,
        description=description,
        assignee=assignee,
        status="open",
        created_by=author(identity),
    )
    db.session.add(intervention)
    db.session.commit()
    publish_intervention(intervention)
    return intervention


def list_interventions(
    identity: Identity,
    *,
    status: str | None = None,
    tenant_id: int | None = None,
    limit: int = 100,
) -> list[Intervention]:
    """The caller's interventions, newest first."""
    return list_items(
        Intervention, identity, status=status, tenant_id=tenant_id, limit=limit
    )


def get_intervention(identity: Identity, intervention_id: int) -> Intervention:
    """One intervention the caller may see; 404 otherwise."""
    return get_item(Intervention, identity, intervention_id, "intervention")


def change_intervention_status(
    identity: Identity, intervention_id: int, status: str
) -> Intervention:
    """Move an intervention forward (open -> in_progress -> done); else 409."""
    intervention = get_intervention(identity, intervention_id)
    check_transition(intervention.status, status, INTERVENTION_TRANSITIONS)
    intervention.status = status
    intervention.updated_at = utcnow()
    db.session.commit()
    publish_intervention(intervention)
    return intervention


def publish_intervention(intervention: Intervention) -> None:
    """Send the intervention's current state to its tenant's dashboards."""
    publisher.publish_to_room(
        NAMESPACE,
        "intervention",
        {"intervention": intervention.to_dict()},
        tenant_room(intervention.tenant_id),
        intervention.tenant_id,
    )
