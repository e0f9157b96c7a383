"""Publishing from outside the server (``flask publish``, scripts, workers).

The same path as ``/api/publish`` (``publisher.publish_as``: validate, persist,
id, emit), on behalf of a platform-admin system identity. Outside the server the
Socket.IO manager is write-only, so the emit goes through the message queue to
every server process.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from webapp.auth.identity import Identity
from webapp.extensions import db
from webapp.models import Tenant
from webapp.services.delivery import publisher
from webapp.services.delivery.publisher import PublishResult

SYSTEM_NAME = "system publisher"


def system_identity(tenant_id: int) -> Identity:
    """A platform-admin identity for trusted, server-side publishers."""
    tenant = db.session.get(Tenant, tenant_id)
    kind = tenant.kind if tenant is not None else "client"
    return Identity(
        tenant_id=tenant_id, role="admin", tenant_kind=kind, name=SYSTEM_NAME
    )


def publish_as_system(
    namespace: str,
    event: str,
    tenant_id: int,
    data: Any,
    target: dict[str, int] | None = None,
    idempotency_key: str | None = None,
) -> PublishResult:
    """Publish ``event`` to ``target`` (default: the tenant's room) as the system."""
    return publisher.publish_as(
        system_identity(tenant_id),
        namespace,
        event,
        data,
        target or {"tenant": tenant_id},
        idempotency_key,
    )


def live_delivery_available() -> bool:
    """True when emits reach other processes (a message queue is configured)."""
    return bool(current_app.config.get("MESSAGE_QUEUE_URL"))
