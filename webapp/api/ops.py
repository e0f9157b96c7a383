"""Operations: health, readiness, metrics and socket statistics."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from webapp.auth.guards import authenticated, current_identity
from webapp.services import readiness
from webapp.services.cluster import connections
from webapp.services.tenancy.visibility import visible_tenant_ids

bp = Blueprint("ops", __name__)


@bp.get("/health")
def health() -> dict[str, Any]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@bp.get("/ready")
def ready() -> tuple[dict[str, Any], int]:
    """Readiness: the database (and message queue, when configured) answer."""
    checks = readiness.check_dependencies()
    ok = all(check["ok"] for check in checks.values())
    return {
        "status": "ready" if ok else "unavailable",
        "checks": checks,
    }, 200 if ok else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from webapp.metrics import REGISTRY

    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)


@bp.get("/ws/status")
def ws_status() -> dict[str, Any]:
    """Public status: no tenant data."""
    return {"status": "ok", "active_connections": connections.active_connections()}


@bp.get("/ws/stats")
@authenticated(roles=("admin", "msp"))
def ws_stats() -> dict[str, Any]:
    """Connections in total, per namespace and per visible tenant."""
    identity = current_identity()
    scope = None if identity.is_admin else visible_tenant_ids(identity)
    return connections.stats(scope)
