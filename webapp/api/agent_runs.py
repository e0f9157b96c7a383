"""REST endpoints for AI agent runs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from webapp.api.schemas import AgentEventBody, AgentRunBody, parse_body
from webapp.auth.guards import authenticated, current_identity
from webapp.event_registry import PUBLISHERS
from webapp.services.events import agent_runs

bp = Blueprint("agent_runs", __name__)


@bp.post("/api/agent-runs")
@authenticated(allow_api_key=True, roles=PUBLISHERS)
def start_run() -> tuple[dict[str, Any], int]:
    """Start a run for a user of a tenant the caller may see."""
    body = parse_body(AgentRunBody)
    run = agent_runs.start_run(current_identity(), body.user_id, body.name)
    return run.to_dict(), 201


@bp.get("/api/agent-runs/<int:run_id>")
@authenticated(allow_api_key=True, roles=PUBLISHERS)
def get_run(run_id: int) -> dict[str, Any]:
    """One run's state."""
    return agent_runs.get_run(current_identity(), run_id).to_dict()


@bp.post("/api/agent-runs/<int:run_id>/events")
@authenticated(allow_api_key=True, roles=PUBLISHERS)
def post_event(run_id: int) -> tuple[dict[str, Any], int]:
    """Send one lifecycle event of the run to its user (409 once it finished)."""
    body = parse_body(AgentEventBody)
    result = agent_runs.post_event(current_identity(), run_id, body.type, body.data)
    return result, 202
