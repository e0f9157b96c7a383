"""Pages: the live dashboard at ``/`` and the vendored bundles it loads."""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, render_template, send_from_directory

from webapp.auth.permissions import ALERT_ACTION_ROLES
from webapp.errors import NotFound

bp = Blueprint("views", __name__)

# The browser bundles of the pinned socket.io-client (package.json); nothing else
# under node_modules is served.
CLIENT_BUNDLES = frozenset(
    {
        "socket.io.esm.min.js",
        "socket.io.esm.min.js.map",
        "socket.io.min.js",
        "socket.io.min.js.map",
    }
)


# Chart.js's UMD build (package.json), loaded by a classic <script> before the
# page's modules: its ES build imports a bare specifier a browser cannot resolve.
CHART_BUNDLES = frozenset({"chart.umd.min.js", "chart.umd.min.js.map"})


def node_module_dir(*parts: str) -> str:
    """A folder inside the app's node_modules."""
    return os.path.join(os.path.dirname(current_app.root_path), "node_modules", *parts)


def client_dist_dir() -> str:
    """Where ``npm ci`` put the socket.io-client browser bundles."""
    default = os.path.join(
        os.path.dirname(current_app.root_path),
        "node_modules",
        "socket.io-client",
        "dist",
    )
    return str(current_app.config.get("SOCKETIO_CLIENT_DIST") or default)


@bp.get("/")
def dashboard_page() -> str:
    """The live dashboard (login form, then analytics, alerts, interventions)."""
    return render_template(
        "dashboard.html", alert_action_roles=" ".join(sorted(ALERT_ACTION_ROLES))
    )


@bp.get("/vendor/socket.io/<name>")
def socketio_client(name: str) -> Response:
    """Serve the pinned socket.io-client bundle from node_modules (no CDN)."""
    directory = client_dist_dir()
    if name not in CLIENT_BUNDLES or not os.path.isfile(os.path.join(directory, name)):
        raise NotFound(
            "socket.io-client is not installed here; run `make node`",
            code="client_bundle_missing",
        )
    return send_from_directory(directory, name, max_age=3600)


@bp.get("/vendor/chart.js/<name>")
def chartjs_bundle(name: str) -> Response:
    """Serve the pinned Chart.js browser bundle from node_modules (no CDN)."""
    directory = node_module_dir("chart.js", "dist")
    if name not in CHART_BUNDLES or not os.path.isfile(os.path.join(directory, name)):
        raise NotFound(
            "chart.js is not installed here; run `make node`",
            code="client_bundle_missing",
        )
    return send_from_directory(directory, name, max_age=3600)
