"""REST endpoints for dashboard (see DESIGN.md section 8)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
