"""REST endpoints for engagements (see DESIGN.md section 8)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("engagements", __name__)
