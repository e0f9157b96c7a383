"""Tenancy rules: who may see which tenant."""

from __future__ import annotations

from sqlalchemy import select

from webapp.auth.identity import Identity
from webapp.errors import NotFound
from webapp.extensions import db
from webapp.input_guard import is_valid_id
from webapp.models import Tenant
from webapp.services.tenancy.auth_cache import auth_cache
from webapp.services.tenancy.auth_rows import TenantState, UserState


def child_tenant_ids(msp_tenant_id: int) -> list[int]:
    """Ids of the client tenants that belong to an MSP tenant."""
    return list(
        db.session.scalars(
            select(Tenant.id)
            .where(Tenant.parent_id == msp_tenant_id)
            .order_by(Tenant.id)
        )
    )


def _visible_for(tenant: TenantState) -> tuple[int, ...]:
    if tenant.kind == "msp":
        return (tenant.id, *tenant.child_ids)
    return (tenant.id,)


def identity_for_user_state(
    user: UserState, tenant: TenantState, jti: str | None = None
) -> Identity:
    """Build the identity of a logged-in user from the cached user and tenant."""
    visible = _visible_for(tenant) if user.role != "client" else (tenant.id,)
    return Identity(
        tenant_id=tenant.id,
        role=user.role,
        tenant_kind=tenant.kind,
        user_id=user.id,
        name=user.name,
        jti=jti,
        visible_tenant_ids=visible,
    )


def msp_client_ids(msp_tenant_id: int) -> tuple[int, ...]:
    """An MSP's client tenants, from the auth cache (synced with the cluster)."""
    cache = auth_cache()
    cache.sync()
    tenant = cache.tenant(msp_tenant_id)
    return tenant.child_ids if tenant is not None else ()


def get_visible_tenant(identity: Identity, tenant_id: int) -> Tenant:
    """The tenant if the caller may see it; 404 otherwise (never reveal existence)."""
    if not is_valid_id(tenant_id) or not identity.can_see_tenant(tenant_id):
        raise NotFound("tenant not found")
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


def visible_tenant_ids(identity: Identity, requested: int | None = None) -> list[int]:
    """The tenants a listing covers.

    With ``requested``: that one tenant if the caller may see it (404 otherwise).
    Without: the caller's own tenants — an admin too, who reaches any other tenant
    only on explicit request (docs/architecture.md, tenancy).
    """
    if requested is not None:
        return [get_visible_tenant(identity, requested).id]
    return list(identity.visible_tenant_ids or (identity.tenant_id,))


def all_tenant_ids() -> list[int]:
    """Every tenant (the platform's registry, for admins)."""
    return list(db.session.scalars(select(Tenant.id).order_by(Tenant.id)))
