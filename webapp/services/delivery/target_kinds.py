"""Every publish target kind and its resolver, registered once at app start-up."""

from __future__ import annotations

from webapp.services.delivery.targets import (
    register_target,
    resolve_msp,
    resolve_tenant,
    resolve_user,
)
from webapp.services.engagement.sessions import resolve_session


def register_target_kinds() -> None:
    """Register the resolvers of ``event_registry.TARGET_KINDS`` (idempotent)."""
    register_target("tenant", resolve_tenant)
    register_target("msp", resolve_msp)
    register_target("user", resolve_user)
    register_target("session", resolve_session)
