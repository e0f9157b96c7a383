"""/api/tenants: tenants, their users and API keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from webapp.api.schemas import ApiKeyBody, TenantBody, UserBody, parse_body
from webapp.auth.guards import authenticated, current_identity
from webapp.services.tenancy import tenants as tenant_service

bp = Blueprint("tenants", __name__, url_prefix="/api/tenants")


@bp.post("")
@authenticated(roles=("admin", "msp"))
def create_tenant() -> tuple[dict[str, Any], int]:
    """Create a tenant."""
    body = parse_body(TenantBody)
    tenant = tenant_service.create_tenant(
        current_identity(), body.name, body.kind, body.parent_id
    )
    return tenant.to_dict(), 201


@bp.get("")
@authenticated()
def list_tenants() -> dict[str, Any]:
    """Tenants the caller may see."""
    return {
        "tenants": [
            t.to_dict() for t in tenant_service.list_tenants(current_identity())
        ]
    }


@bp.post("/<int:tenant_id>/users")
@authenticated(roles=("admin", "msp"))
def create_user(tenant_id: int) -> tuple[dict[str, Any], int]:
    """Add a user to a tenant."""
    body = parse_body(UserBody)
    user = tenant_service.create_user(
        current_identity(), tenant_id, body.email, body.password, body.name, body.role
    )
    return user.to_dict(), 201


@bp.post("/<int:tenant_id>/api-keys")
@authenticated(roles=("admin", "msp"))
def create_api_key(tenant_id: int) -> tuple[dict[str, Any], int]:
    """Create an API key; the key is in this response only."""
    body = parse_body(ApiKeyBody)
    return tenant_service.create_api_key(current_identity(), tenant_id, body.name), 201


@bp.get("/<int:tenant_id>/api-keys")
@authenticated(roles=("admin", "msp"))
def list_api_keys(tenant_id: int) -> dict[str, Any]:
    """A tenant's keys, without secrets."""
    keys = tenant_service.list_api_keys(current_identity(), tenant_id)
    return {"api_keys": [k.to_dict() for k in keys]}


@bp.delete("/<int:tenant_id>/api-keys/<int:key_id>")
@authenticated(roles=("admin", "msp"))
def revoke_api_key(tenant_id: int, key_id: int) -> Response:
    """Revoke a key."""
    tenant_service.revoke_api_key(current_identity(), tenant_id, key_id)
    return Response(status=204)
