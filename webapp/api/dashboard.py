"""REST endpoints for the dashboard: alerts, interventions, analytics."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, request
from pydantic import Field

from webapp.api.schemas import Body, Id, int_arg, parse_body
from webapp.auth.guards import authenticated, current_identity
from webapp.errors import ValidationFailed
from webapp.models.alert import ALERT_STATUSES
from webapp.models.intervention import INTERVENTION_STATUSES
from webapp.services.dashboard import alerts, analytics, interventions

bp = Blueprint("dashboard", __name__, url_prefix="/api/dashboard")

Severity = Literal["info", "low", "medium", "high", "critical"]


class AlertBody(Body):
    severity: Severity = "info"
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=4000)
    tenant_id: Id | None = None


class AlertStatusBody(Body):
    status: Literal["acknowledged", "resolved"]


class InterventionBody(Body):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    assignee: str = Field(default="", max_length=200)
    alert_id: Id | None = None
    tenant_id: Id | None = None


class InterventionStatusBody(Body):
    status: Literal["open", "in_progress", "done"]


def _status_arg(allowed: tuple[str, ...]) -> str | None:
    status = request.args.get("status") or None
    if status is not None and status not in allowed:
        raise ValidationFailed(
            "status must be one of: " + ", ".join(allowed),
            details=[{"field": "status"}],
        )
    return status


def _tenant_arg() -> int | None:
    return int_arg("tenant_id", 0, minimum=1) if request.args.get("tenant_id") else None


# ---------------------------------------------------------------------- alerts
@bp.get("/alerts")
@authenticated(allow_api_key=True)
def list_alerts() -> dict[str, Any]:
    """Alerts of the caller's tenants, newest first (``status``, ``tenant_id``)."""
    found = alerts.list_alerts(
        current_identity(),
        status=_status_arg(ALERT_STATUSES),
        tenant_id=_tenant_arg(),
        limit=min(int_arg("limit", 100, minimum=1), 500),
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
@authenticated(allow_api_key=True)
def update_alert(alert_id: int) -> dict[str, Any]:
    """Change an alert's status (``acknowledged`` or ``resolved``)."""
    body = parse_body(AlertStatusBody)
    return alerts.change_alert_status(
        current_identity(), alert_id, body.status
    ).to_dict()


@bp.post("/alerts/<int:alert_id>/acknowledge")
@authenticated(allow_api_key=True)
def acknowledge_alert(alert_id: int) -> dict[str, Any]:
    """Acknowledge an open alert."""
    return alerts.change_alert_status(
        current_identity(), alert_id, "acknowledged"
    ).to_dict()


@bp.post("/alerts/<int:alert_id>/resolve")
@authenticated(allow_api_key=True)
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
    found = interventions.list_interventions(
        current_identity(),
        status=_status_arg(INTERVENTION_STATUSES),
        tenant_id=_tenant_arg(),
        limit=min(int_arg("limit", 100, minimum=1), 500),
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
