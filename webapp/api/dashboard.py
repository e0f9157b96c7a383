"""REST endpoints for the dashboard: alerts, interventions, analytics."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from webapp.api.schemas import (
    AlertBody,
    AlertsQuery,
    AlertStatusBody,
    InterventionBody,
    InterventionsQuery,
    InterventionStatusBody,
    parse_body,
    parse_query,
)
from webapp.auth.guards import authenticated, current_identity
from webapp.auth.permissions import ALERT_ACTION_ROLES
from webapp.services.dashboard import alerts, analytics, interventions

bp = Blueprint("dashboard", __name__, url_prefix="/api/dashboard")


# ---------------------------------------------------------------------- alerts
@bp.get("/alerts")
@authenticated(allow_api_key=True)
def list_alerts() -> dict[str, Any]:
    """Alerts of the caller's tenants, newest first (``status``, ``tenant_id``)."""
    query = parse_query(AlertsQuery)
    found = alerts.list_alerts(
        current_identity(),
        status=query.status,
        tenant_id=query.tenant_id,
        limit=min(query.limit, 500),
    )
    return {"alerts": [alert.to_dict() for alert in found]}


@bp.post("/alerts")
@authenticated(allow_api_key=True)
def create_alert() -> tuple[dict[str, Any], int]:
    """Raise an alert; the tenant's dashboards receive ``alert``."""
    body = parse_body(AlertBody)
    alert = alerts.create_alert(current_identity(), **body.model_dump())
    return alert.to_dict(), 201


@bp.get("/alerts/<int:alert_id>")
@authenticated(allow_api_key=True)
def get_alert(alert_id: int) -> dict[str, Any]:
    """One alert."""
    return alerts.get_alert(current_identity(), alert_id).to_dict()


@bp.patch("/alerts/<int:alert_id>")
@authenticated(allow_api_key=True, roles=ALERT_ACTION_ROLES)
def update_alert(alert_id: int) -> dict[str, Any]:
    """Change an alert's status (``acknowledged`` or ``resolved``)."""
    body = parse_body(AlertStatusBody)
    return alerts.change_alert_status(
        current_identity(), alert_id, body.status
    ).to_dict()


@bp.post("/alerts/<int:alert_id>/acknowledge")
@authenticated(allow_api_key=True, roles=ALERT_ACTION_ROLES)
def acknowledge_alert(alert_id: int) -> dict[str, Any]:
    """Acknowledge an open alert."""
    return alerts.change_alert_status(
        current_identity(), alert_id, "acknowledged"
    ).to_dict()


@bp.post("/alerts/<int:alert_id>/resolve")
@authenticated(allow_api_key=True, roles=ALERT_ACTION_ROLES)
def resolve_alert(alert_id: int) -> dict[str, Any]:
    """Resolve an open or acknowledged alert."""
    return alerts.change_alert_status(
        current_identity(), alert_id, "resolved"
    ).to_dict()


# --------------------------------------------------------------- interventions
@bp.get("/interventions")
@authenticated(allow_api_key=True)
def list_interventions() -> dict[str, Any]:
    """Interventions of the caller's tenants, newest first."""
    query = parse_query(InterventionsQuery)
    found = interventions.list_interventions(
        current_identity(),
        status=query.status,
        tenant_id=query.tenant_id,
        limit=min(query.limit, 500),
    )
    return {"interventions": [item.to_dict() for item in found]}


@bp.post("/interventions")
@authenticated(allow_api_key=True)
def create_intervention() -> tuple[dict[str, Any], int]:
    """Create an intervention; the tenant's dashboards receive ``intervention``."""
    body = parse_body(InterventionBody)
    item = interventions.create_intervention(current_identity(), **body.model_dump())
    return item.to_dict(), 201


@bp.get("/interventions/<int:intervention_id>")
@authenticated(allow_api_key=True)
def get_intervention(intervention_id: int) -> dict[str, Any]:
    """One intervention."""
    return interventions.get_intervention(current_identity(), intervention_id).to_dict()


@bp.patch("/interventions/<int:intervention_id>")
@authenticated(allow_api_key=True)
def update_intervention(intervention_id: int) -> dict[str, Any]:
    """Move an intervention forward; an invalid transition is a 409."""
    body = parse_body(InterventionStatusBody)
    return interventions.change_intervention_status(
        current_identity(), intervention_id, body.status
    ).to_dict()


# ------------------------------------------------------------------- analytics
@bp.get("/analytics")
@authenticated(allow_api_key=True)
def get_analytics() -> dict[str, Any]:
    """The caller's analytics snapshot (what ``analytics_update`` carries)."""
    return analytics.compute_snapshot(analytics.channel_for(current_identity()))
