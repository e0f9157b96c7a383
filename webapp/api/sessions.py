"""/api/sessions: collaboration sessions and their live participants."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from webapp.api.schemas import SessionBody, SessionsQuery, parse_body, parse_query
from webapp.auth.guards import authenticated, current_identity
from webapp.services.engagement import sessions as session_service

bp = Blueprint("sessions", __name__)


@bp.post("/api/sessions")
@authenticated(allow_api_key=True)
def create_session() -> tuple[dict[str, Any], int]:
    """Create a session in the caller's tenant, a visible one, or an engagement's."""
    body = parse_body(SessionBody)
    session = session_service.create_session(
        current_identity(), body.title, body.tenant_id, body.engagement_id
    )
    return session_service.describe_session(session), 201


@bp.get("/api/sessions")
@authenticated(allow_api_key=True)
def list_sessions() -> dict[str, Any]:
    """Sessions the caller may see (``?tenant_id=``, ``?engagement_id=``)."""
    query = parse_query(SessionsQuery)
    found = session_service.list_sessions(
        current_identity(), query.tenant_id or None, query.engagement_id or None
    )
    return {"sessions": [session_service.describe_session(s) for s in found]}


@bp.get("/api/sessions/<int:session_id>")
@authenticated(allow_api_key=True)
def get_session(session_id: int) -> dict[str, Any]:
    """One session with its live participants."""
    session = session_service.get_visible_session(current_identity(), session_id)
    return session_service.describe_session(session)
