"""Shared rules for tenant-owned dashboard items (alerts, interventions).

Both kinds belong to one tenant, have a status lifecycle and are listed and fetched
the same way; this module holds that once.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from webapp.auth.identity import Identity
from webapp.errors import Conflict, NotFound
from webapp.extensions import db
from webapp.services.tenancy.visibility import get_visible_tenant, visible_tenant_ids

T = TypeVar("T")


def owning_tenant_id(identity: Identity, tenant_id: int | None) -> int:
    """The tenant a new item belongs to: the caller's, or one it may see (else 404)."""
    if tenant_id is None:
        return identity.tenant_id
    return get_visible_tenant(identity, tenant_id).id


def tenant_scope(identity: Identity, tenant_id: int | None) -> list[int]:
    """Tenants a listing covers: one the caller may see, or all it may see."""
    return visible_tenant_ids(identity, tenant_id)


def author(identity: Identity) -> str:
    """How the creator of an item is shown."""
    return identity.name or f"{identity.role}:{identity.user_id or identity.api_key_id}"


def check_transition(
    current: str, wanted: str, allowed: dict[str, tuple[str, ...]]
) -> None:
    """Refuse a status change the lifecycle does not allow (409)."""
    if wanted not in allowed.get(current, ()):
        raise Conflict(
            f"cannot move from {current!r} to {wanted!r}",
            code="invalid_transition",
            details={"from": current, "to": wanted, "allowed": list(allowed[current])},
        )


def list_items(
    model: type[T],
    identity: Identity,
    *,
    status: str | None = None,
    tenant_id: int | None = None,
    limit: int = 100,
) -> list[T]:
    """Items of the tenants the caller may see, newest first."""
    columns: Any = model
    query = select(model).where(
        columns.tenant_id.in_(tenant_scope(identity, tenant_id))
    )
    if status:
        query = query.where(columns.status == status)
    return list(db.session.scalars(query.order_by(columns.id.desc()).limit(limit)))


def get_item(model: type[T], identity: Identity, item_id: int, label: str) -> T:
    """One item the caller may see; 404 otherwise (also for another tenant's)."""
    item: Any = db.session.get(model, item_id)
    if item is None or not identity.can_see_tenant(item.tenant_id):
        raise NotFound(f"{label} not found")
    return item  # type: ignore[no-any-return]
