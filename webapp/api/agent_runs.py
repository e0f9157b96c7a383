"""REST endpoints for agent runs (see DESIGN.md section 8)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("agent_runs", __name__)
