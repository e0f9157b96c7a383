"""One process at a time per webhook: a lease on the webhook row.

A conditional ``UPDATE`` takes the lease only when it is free or expired, which
is atomic on PostgreSQL and SQLite alike. Unlike ``SELECT … FOR UPDATE SKIP
LOCKED``, it holds no transaction (nor a pooled connection) open across the HTTP
call; a process killed mid-send frees its webhooks when the lease expires.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from webapp.extensions import db
from webapp.models import Webhook, WebhookDelivery
from webapp.models.time import utcnow

OWNER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def process_owner() -> str:
    """This process's lease owner name (new after a fork)."""
    global OWNER
    if f":{os.getpid()}:" not in OWNER:
        OWNER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return OWNER


def _free(owner: str, now: datetime) -> ColumnElement[bool]:
    return or_(
        Webhook.lease_until.is_(None),
        Webhook.lease_until < now,
        Webhook.lease_owner == owner,
    )


def due_webhooks(owner: str, limit: int) -> list[int]:
    """Enabled webhooks with a delivery due and no other process's live lease."""
    now = utcnow()
    query = (
        select(WebhookDelivery.webhook_id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now,
            Webhook.enabled.is_(True),
            _free(owner, now),
        )
        .distinct()
        .limit(limit)
    )
    found = list(db.session.scalars(query))
    db.session.commit()
    return found


def acquire(webhook_id: int, owner: str, seconds: float) -> bool:
    """Take (or extend) the lease; False if another process holds it."""
    now = utcnow()
    result = db.session.execute(
        update(Webhook)
        .where(and_(Webhook.id == webhook_id, _free(owner, now)))
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def extend(webhook_id: int, owner: str, seconds: float) -> bool:
    """Extend a lease this process holds, in the caller's transaction (no commit).

    False if the lease was lost (expired and taken): the caller then stops.
    """
    now = utcnow()
    result = db.session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.lease_owner == owner)
        .values(lease_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release(webhook_id: int, owner: str) -> None:
    """Give the webhook back (another process may take it at once)."""
    db.session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
