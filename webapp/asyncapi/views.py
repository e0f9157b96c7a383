"""``GET /asyncapi.json``: the sockets' AsyncAPI 3.0 document."""

from __future__ import annotations

from flask import Blueprint, Response

from webapp.asyncapi.document import asyncapi_json

bp = Blueprint("asyncapi", __name__)


@bp.get("/asyncapi.json")
def asyncapi_document() -> Response:
    """The AsyncAPI document generated from the event registry (no auth: a contract)."""
    return Response(asyncapi_json(), mimetype="application/json")
