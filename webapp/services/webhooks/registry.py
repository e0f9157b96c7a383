"""A tenant's webhooks: create, list, change, rotate the secret, delete.

Whoever may see the tenant (admin, its MSP) may manage its webhooks; another
tenant's webhook is a 404, like any other tenant-owned object.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from webapp.auth.identity import Identity
from webapp.errors import NotFound, ValidationFailed
from webapp.event_registry import EVENT_TYPES
from webapp.extensions import db
from webapp.models import Webhook, WebhookDelivery
from webapp.models.time import utcnow
from webapp.services.tenancy.visibility import get_visible_tenant
from webapp.services.webhooks.address_guard import parse_url, resolve
from webapp.services.webhooks.settings import WebhookSettings
from webapp.services.webhooks.signer import new_secret

PRESENCE_KINDS = (
    "session.occupied",
    "session.vacated",
    "session.member_added",
    "session.member_removed",
)
PUBLISHED = "event.published"
PING = "ping"
EVENT_KINDS = (*PRESENCE_KINDS, PUBLISHED, PING)
MAX_WEBHOOKS_PER_TENANT = 50


def check_url(url: str) -> None:
    """Refuse a URL the sender would refuse (scheme, private address)."""
    settings = WebhookSettings.of()
    parse_url(url, settings)
    resolve(url, settings)


def check_events(events: list[str]) -> list[str]:
    """Known kinds only, each once, in the given order."""
    unknown = [kind for kind in events if kind not in EVENT_KINDS]
    if unknown:
        raise ValidationFailed(
            "unknown event kinds: " + ", ".join(unknown),
            details=[
                {"field": "events", "message": "one of " + ", ".join(EVENT_KINDS)}
            ],
        )
    return list(dict.fromkeys(events))


def check_filter(namespace: str | None, types: list[str] | None) -> None:
    """The ``event.published`` filter must name declared events."""
    if namespace is not None and not any(
        et.namespace == namespace for et in EVENT_TYPES.values()
    ):
        raise ValidationFailed(
            f"unknown namespace {namespace!r}",
            details=[{"field": "filter.namespace"}],
        )
    known = {et.name for et in EVENT_TYPES.values()}
    unknown = [name for name in types or () if name not in known]
    if unknown:
        raise ValidationFailed(
            "unknown event types: " + ", ".join(unknown),
            details=[{"field": "filter.types"}],
        )


def create_webhook(
    identity: Identity,
    tenant_id: int,
    url: str,
    events: list[str],
    description: str = "",
    namespace: str | None = None,
    types: list[str] | None = None,
) -> tuple[Webhook, str]:
    """Create a webhook; returns it and its secret (shown this once)."""
    tenant = get_visible_tenant(identity, tenant_id)
    kinds = check_events(events)
    check_filter(namespace, types)
    check_url(url)
    count = len(list_webhooks(identity, tenant.id))
    if count >= MAX_WEBHOOKS_PER_TENANT:
        raise ValidationFailed(
            f"a tenant may have at most {MAX_WEBHOOKS_PER_TENANT} webhooks",
            code="too_many_webhooks",
        )
    secret = new_secret()
    webhook = Webhook(
        tenant_id=tenant.id,
        url=url,
        description=description,
        events=kinds,
        filter_namespace=namespace,
        filter_types=list(dict.fromkeys(types)) if types else None,
        secret=secret,
        enabled=True,
    )
    db.session.add(webhook)
    db.session.commit()
    return webhook, secret


def list_webhooks(identity: Identity, tenant_id: int) -> list[Webhook]:
    """The tenant's webhooks, oldest first."""
    tenant = get_visible_tenant(identity, tenant_id)
    query = select(Webhook).where(Webhook.tenant_id == tenant.id).order_by(Webhook.id)
    return list(db.session.scalars(query))


def get_webhook(identity: Identity, tenant_id: int, webhook_id: int) -> Webhook:
    """One webhook of a tenant the caller sees; 404 otherwise."""
    tenant = get_visible_tenant(identity, tenant_id)
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None or webhook.tenant_id != tenant.id:
        raise NotFound("webhook not found")
    return webhook


def update_webhook(
    identity: Identity, tenant_id: int, webhook_id: int, changes: dict[str, Any]
) -> Webhook:
    """Change url, events, description, filter or enabled (enabling clears failures)."""
    webhook = get_webhook(identity, tenant_id, webhook_id)
    if "url" in changes:
        check_url(changes["url"])
        webhook.url = changes["url"]
    if "events" in changes:
        webhook.events = check_events(changes["events"])
    if "description" in changes:
        webhook.description = changes["description"]
    if "filter" in changes:
        flt = changes["filter"] or {}
        check_filter(flt.get("namespace"), flt.get("types"))
        webhook.filter_namespace = flt.get("namespace")
        webhook.filter_types = flt.get("types") or None
    if "enabled" in changes:
        webhook.enabled = bool(changes["enabled"])
        if webhook.enabled:
            webhook.disabled_reason = None
            webhook.failing_since = None
        else:
            webhook.disabled_reason = "disabled by a user"
    webhook.updated_at = utcnow()
    db.session.commit()
    return webhook


def rotate_secret(identity: Identity, tenant_id: int, webhook_id: int) -> str:
    """A new secret for every delivery from now on; the old one signs too a while.

    For ``WEBHOOK_SECRET_GRACE`` seconds each delivery carries a second ``v1=``
    made with the previous secret, so a receiver still checking the old one
    does not refuse deliveries while it is being updated.
    """
    webhook = get_webhook(identity, tenant_id, webhook_id)
    now = utcnow()
    grace = WebhookSettings.of().secret_grace
    webhook.previous_secret = webhook.secret if grace > 0 else None
    webhook.previous_secret_until = (
        now + timedelta(seconds=grace) if grace > 0 else None
    )
    webhook.secret = new_secret()
    webhook.updated_at = now
    db.session.commit()
    return webhook.secret


def delete_webhook(identity: Identity, tenant_id: int, webhook_id: int) -> None:
    """Delete the webhook and its deliveries (pending ones are not sent)."""
    webhook = get_webhook(identity, tenant_id, webhook_id)
    # The row lock first: a publish that already read this webhook as a subscriber
    # holds FOR KEY SHARE on it (outbox.SUBSCRIBERS) until it has inserted its
    # deliveries, so this waits for them (and deletes them too) instead of
    # making that publish fail on the foreign key.
    db.session.execute(
        select(Webhook.id).where(Webhook.id == webhook.id).with_for_update()
    )
    # Explicit: SQLite enforces the foreign key's ON DELETE only with the pragma.
    db.session.query(WebhookDelivery).filter_by(webhook_id=webhook.id).delete()
    db.session.delete(webhook)
    db.session.commit()
