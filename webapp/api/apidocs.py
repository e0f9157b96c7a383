"""GET /openapi.json and GET /docs (Swagger UI, served from node_modules: no CDN)."""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Response, current_app, render_template, send_from_directory

from webapp.api.openapi import openapi_document
from webapp.errors import NotFound

bp = Blueprint("apidocs", __name__)

# The files of the pinned swagger-ui-dist (package.json) the page loads; nothing
# else under node_modules is served.
SWAGGER_FILES = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
)


def swagger_dist_dir() -> str:
    """Where ``npm ci`` put swagger-ui-dist."""
    root = os.path.dirname(current_app.root_path)
    return os.path.join(root, "node_modules", "swagger-ui-dist")


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
    directory = swagger_dist_dir()
    if name not in SWAGGER_FILES or not os.path.isfile(os.path.join(directory, name)):
        raise NotFound(
            "swagger-ui-dist is not installed here; run `make node`",
            code="docs_assets_missing",
        )
    return send_from_directory(directory, name, max_age=3600)
