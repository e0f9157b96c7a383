"""Tenants, their users and their API keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.auth.api_keys import generate_api_key
from webapp.auth.identity import Identity
from webapp.errors import Conflict, Forbidden, NotFound, ValidationFailed
from webapp.extensions import db
from webapp.models import ApiKey, Tenant, User
from webapp.models.time import utcnow
from webapp.rooms import tenant_room
from webapp.services.delivery import to_connection
from webapp.services.tenancy.users import add_user
from webapp.services.tenancy.visibility import (
    all_tenant_ids,
    get_visible_tenant,
    visible_tenant_ids,
)


def create_tenant(
    identity: Identity, name: str, kind: str, parent_id: int | None
) -> Tenant:
    """Admins create any tenant; an MSP user creates client tenants under its MSP."""
    if identity.is_admin:
        pass
    elif identity.role == "msp" and identity.tenant_kind == "msp":
        if kind != "client":
            raise Forbidden("an MSP may only create client tenants")
        if parent_id not in (None, identity.tenant_id):
            raise Forbidden("an MSP may only create tenants under itself")
        parent_id = identity.tenant_id
    else:
        raise Forbidden("your role may not create tenants")
    if kind == "msp" and parent_id is not None:
        raise ValidationFailed(
            "an MSP tenant has no parent", details=[{"field": "parent_id"}]
        )
    if parent_id is not None:
        parent = db.session.get(Tenant, parent_id)
        if parent is None or parent.kind != "msp":
            raise ValidationFailed(
                "parent_id must be an MSP tenant", details=[{"field": "parent_id"}]
            )
    tenant = Tenant(name=name, kind=kind, parent_id=parent_id)
    db.session.add(tenant)
    _commit_or_conflict("a tenant with this name already exists")
    if parent_id is not None:
        # The MSP's staff are connected already: let them see the new client now.
        to_connection.enter_room_for_tenant_connections(
            parent_id, tenant_room(tenant.id)
        )
    return tenant


def list_tenants(identity: Identity) -> list[Tenant]:
    """The tenants the caller may see."""
    ids = all_tenant_ids() if identity.is_admin else visible_tenant_ids(identity)
    return list(
        db.session.scalars(select(Tenant).where(Tenant.id.in_(ids)).order_by(Tenant.id))
    )


def _manageable_tenant(identity: Identity, tenant_id: int) -> Tenant:
    """A tenant the caller may administer (admins: any; MSP staff: own and clients)."""
    tenant = get_visible_tenant(identity, tenant_id)
    if identity.role not in ("admin", "msp"):
        raise Forbidden("your role may not manage tenants")
    return tenant


def create_user(
    identity: Identity, tenant_id: int, email: str, password: str, name: str, role: str
) -> User:
    """Add a user to a tenant the caller manages; roles never exceed the caller's."""
    tenant = _manageable_tenant(identity, tenant_id)
    if role == "admin" and not identity.is_admin:
        raise Forbidden("only an admin may create admins")
    if role == "msp" and tenant.kind != "msp":
        raise ValidationFailed(
            "msp users belong to an MSP tenant", details=[{"field": "role"}]
        )
    if role == "client" and tenant.kind != "client":
        raise ValidationFailed(
            "client users belong to a client tenant", details=[{"field": "role"}]
        )
    user = add_user(tenant.id, email, name, role, password)
    _commit_or_conflict("a user with this email already exists")
    return user


def create_api_key(identity: Identity, tenant_id: int, name: str) -> dict[str, Any]:
    """Create a key; the full key is returned here and never again."""
    tenant = _manageable_tenant(identity, tenant_id)
    key, prefix, digest = generate_api_key()
    record = ApiKey(tenant_id=tenant.id, name=name, prefix=prefix, hash=digest)
    db.session.add(record)
    db.session.commit()
    return {"id": record.id, "name": record.name, "prefix": prefix, "key": key}


def list_api_keys(identity: Identity, tenant_id: int) -> list[ApiKey]:
    """A tenant's keys (without secrets)."""
    tenant = _manageable_tenant(identity, tenant_id)
    return list(
        db.session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == tenant.id).order_by(ApiKey.id)
        )
    )


def revoke_api_key(identity: Identity, tenant_id: int, key_id: int) -> None:
    """Revoke a key of a tenant the caller manages."""
    tenant = _manageable_tenant(identity, tenant_id)
    record = db.session.get(ApiKey, key_id)
    if record is None or record.tenant_id != tenant.id:
        raise NotFound("API key not found")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.commit()


def _commit_or_conflict(message: str) -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(message) from exc
