"""Room names. The server computes them; clients never name a tenant room."""

from __future__ import annotations

from webapp.auth.identity import Identity


def tenant_room(tenant_id: int) -> str:
    """Every connection allowed to see the tenant."""
    return f"tenant:{tenant_id}"


def msp_room(tenant_id: int) -> str:
    """An MSP tenant's own staff only."""
    return f"msp:{tenant_id}"


def user_room(user_id: int) -> str:
    """Every connection of one user."""
    return f"user:{user_id}"


def session_room(session_id: int) -> str:
    """Connections that joined a collaboration session."""
    return f"session:{session_id}"


def rooms_for_identity(
    identity: Identity, watched_tenant_id: int | None = None
) -> list[str]:
    """The rooms a new connection enters, computed from its identity alone.

    An admin watches its own tenant unless it asks for another one explicitly.
    """
    if identity.is_admin and watched_tenant_id is not None:
        tenants: tuple[int, ...] = (watched_tenant_id,)
    else:
        tenants = identity.visible_tenant_ids or (identity.tenant_id,)
    rooms = [tenant_room(tenant_id) for tenant_id in tenants]
    if identity.tenant_kind == "msp" and identity.role in ("msp", "admin"):
        rooms.append(msp_room(identity.tenant_id))
    if identity.user_id is not None:
        rooms.append(user_room(identity.user_id))
    return rooms
