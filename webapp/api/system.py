"""REST endpoints for system (see DESIGN.md section 8)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("system", __name__)
