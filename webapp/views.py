"""Pages: the live dashboard at ``/`` and the vendored bundles it loads."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from webapp.auth.permissions import ALERT_ACTION_ROLES
from webapp.vendor import node_module_dir, send_vendored

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


def client_dist_dir() -> str:
    """Where ``npm ci`` put the socket.io-client browser bundles."""
    default = node_module_dir("socket.io-client", "dist")
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
    return send_vendored(
        client_dist_dir(),
        name,
        "socket.io-client",
        "client_bundle_missing",
        CLIENT_BUNDLES,
    )


@bp.get("/vendor/chart.js/<name>")
def chartjs_bundle(name: str) -> Response:
    """Serve the pinned Chart.js browser bundle from node_modules (no CDN)."""
    return send_vendored(
        node_module_dir("chart.js", "dist"),
        name,
        "chart.js",
        "client_bundle_missing",
        CHART_BUNDLES,
    )
