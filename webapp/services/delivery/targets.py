"""Publish targets: how ``{"tenant": 3}`` becomes a room the caller may reach.

Each kind (``tenant``, ``msp``, ``user``, ``session``) has a resolver; they are
registered explicitly at app start-up by ``target_kinds.register_target_kinds``,
and the publisher looks them up here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.auth.identity import Identity
from webapp.errors import NotFound, ValidationFailed
from webapp.event_registry import TARGET_KINDS
from webapp.extensions import db
from webapp.input_guard import require_id_in_range
from webapp.models import Tenant, User
from webapp.rooms import msp_room, tenant_room, user_room
from webapp.services.tenancy.visibility import get_visible_tenant

# (identity, target id) -> (room, tenant_id)
TargetResolver = Callable[[Identity, int], tuple[str, int]]
TARGET_RESOLVERS: dict[str, TargetResolver] = {}


def register_target(kind: str, resolver: TargetResolver) -> None:
    """Register how a target kind resolves to a room (at app start-up)."""
    TARGET_RESOLVERS[kind] = resolver


def resolve_tenant(identity: Identity, tenant_id: int) -> tuple[str, int]:
    """``{"tenant": id}``: that tenant's room, if the caller sees the tenant."""
    # The caller's visible tenants were read from the database when it was
    # authenticated: no second lookup per publish. Admins reach any tenant, so
    # for them (and anything else) existence is checked.
    if tenant_id not in identity.visible_tenant_ids:
        get_visible_tenant(identity, tenant_id)
    return tenant_room(tenant_id), tenant_id


def resolve_msp(identity: Identity, tenant_id: int) -> tuple[str, int]:
    """``{"msp": id}``: the MSP's staff-only room, for its own staff or an admin."""
    tenant = db.session.get(Tenant, tenant_id)
    own = identity.tenant_id == tenant_id or identity.is_admin
    if tenant is None or tenant.kind != "msp" or not own:
        raise NotFound("MSP tenant not found")
    return msp_room(tenant_id), tenant_id


def resolve_user(identity: Identity, user_id: int) -> tuple[str, int]:
    """``{"user": id}``: every connection of a user the caller may see."""
    user = db.session.get(User, user_id)
    if user is None or not identity.can_see_tenant(user.tenant_id):
        raise NotFound("user not found")
    return user_room(user_id), user.tenant_id


def parse_target(raw: Any) -> tuple[str, int]:
    """``{"tenant": 3}`` -> ``("tenant", 3)``; exactly one known kind.

    An id no row can have (outside 1..2^63-1) is a 404, like an unknown one.
    """
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValidationFailed(
            "target must be an object with exactly one of: " + ", ".join(TARGET_KINDS),
            details=[{"field": "target"}],
        )
    ((kind, value),) = raw.items()
    if kind not in TARGET_KINDS:
        raise ValidationFailed(
            f"unknown target kind {kind!r}", details=[{"field": "target"}]
        )
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(
            "target id must be an integer", details=[{"field": "target"}]
        )
    return kind, require_id_in_range(value, kind)
