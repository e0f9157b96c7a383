"""REST endpoints for sessions (see DESIGN.md section 8)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sessions", __name__)
