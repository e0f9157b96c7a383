"""/api/tenants/<id>/users/<user_id>: managing a tenant's existing users."""

from __future__ import annotations

from flask import Blueprint, Response

from webapp.auth.guards import authenticated, current_identity
from webapp.services.tenancy import users as user_service

bp = Blueprint("users", __name__, url_prefix="/api/tenants")


@bp.delete("/<int:tenant_id>/users/<int:user_id>")
@authenticated(roles=("admin", "msp"))
def deactivate_user(tenant_id: int, user_id: int) -> Response:
    """Deactivate a user: tokens refused from now on, sockets closed (cluster)."""
    user_service.deactivate_user(current_identity(), tenant_id, user_id)
    return Response(status=204)
