"""/api/engagements: MSP/client engagements and their interaction counters."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from webapp.api.schemas import (
    EngagementAlertBody,
    EngagementBody,
    EngagementPatch,
    EngagementsQuery,
    InteractionBody,
    parse_body,
    parse_query,
)
from webapp.auth.guards import authenticated, current_identity
from webapp.services.engagement import engagements as engagement_service

bp = Blueprint("engagements", __name__)


@bp.post("/api/engagements")
@authenticated(allow_api_key=True)
def create_engagement() -> tuple[dict[str, Any], int]:
    """Open an engagement with a client tenant (MSP staff)."""
    body = parse_body(EngagementBody)
    engagement = engagement_service.create_engagement(
        current_identity(), body.client_tenant_id, body.title, body.status
    )
    return engagement.to_dict(), 201


@bp.get("/api/engagements")
@authenticated(allow_api_key=True)
def list_engagements() -> dict[str, Any]:
    """Engagements the caller may see (``?status=``, ``?client_tenant_id=``)."""
    query = parse_query(EngagementsQuery)
    found = engagement_service.list_engagements(
        current_identity(), query.status, query.client_tenant_id or None
    )
    return {"engagements": [e.to_dict() for e in found]}


@bp.get("/api/engagements/<int:engagement_id>")
@authenticated(allow_api_key=True)
def get_engagement(engagement_id: int) -> dict[str, Any]:
    """One engagement with its counters."""
    identity = current_identity()
    return engagement_service.get_visible_engagement(identity, engagement_id).to_dict()


@bp.patch("/api/engagements/<int:engagement_id>")
@authenticated(allow_api_key=True)
def update_engagement(engagement_id: int) -> dict[str, Any]:
    """Change the title or the status (active/paused)."""
    body = parse_body(EngagementPatch)
    engagement = engagement_service.update_engagement(
        current_identity(), engagement_id, body.title, body.status
    )
    return engagement.to_dict()


@bp.post("/api/engagements/<int:engagement_id>/archive")
@authenticated(allow_api_key=True)
def archive_engagement(engagement_id: int) -> dict[str, Any]:
    """Archive an engagement (idempotent)."""
    identity = current_identity()
    return engagement_service.archive_engagement(identity, engagement_id).to_dict()


@bp.post("/api/engagements/<int:engagement_id>/interactions")
@authenticated(allow_api_key=True)
def record_interaction(engagement_id: int) -> dict[str, Any]:
    """Count one interaction; broadcasts the new counters."""
    body = parse_body(InteractionBody)
    return engagement_service.record_interaction(
        current_identity(), engagement_id, body.kind
    )


@bp.post("/api/engagements/<int:engagement_id>/alerts")
@authenticated(allow_api_key=True)
def raise_alert(engagement_id: int) -> tuple[dict[str, Any], int]:
    """Alert the client tenant, or the MSP's staff only with ``msp_only``."""
    body = parse_body(EngagementAlertBody)
    alert = body.model_dump(exclude={"msp_only"})
    result = engagement_service.raise_alert(
        current_identity(), engagement_id, alert, body.msp_only
    )
    return result.to_dict(), 202
