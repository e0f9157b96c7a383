"""GET /openapi.json and GET /docs (Swagger UI, served from node_modules: no CDN)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from webapp.api.openapi import openapi_document
from webapp.vendor import node_module_dir, send_vendored

bp = Blueprint("apidocs", __name__)

# The files of the pinned swagger-ui-dist (package.json) the page loads; nothing
# else under node_modules is served.
SWAGGER_FILES = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
)


def swagger_dist_dir() -> str:
    """Where ``npm ci`` put swagger-ui-dist."""
    return node_module_dir("swagger-ui-dist")


@bp.get("/openapi.json")
def openapi_json() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the REST API."""
    return openapi_document()


@bp.get("/docs")
def docs_page() -> str:
    """The interactive API reference (Swagger UI over /openapi.json)."""
    return render_template("apidocs.html")


@bp.get("/vendor/swagger-ui/<name>")
def swagger_asset(name: str) -> Response:
    """Serve a Swagger UI asset from node_modules."""
    return send_vendored(
        swagger_dist_dir(),
        name,
        "swagger-ui-dist",
        "docs_assets_missing",
        SWAGGER_FILES,
    )
