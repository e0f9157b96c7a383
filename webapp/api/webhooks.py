"""/api/tenants/<id>/webhooks: a tenant's webhook endpoints and their delivery log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from webapp.api.schemas import (
    WebhookCreateBody,
    WebhookFilter,
    WebhookPatchBody,
    parse_body,
)
from webapp.auth.guards import authenticated, current_identity
from webapp.services.webhooks import outbox, registry

bp = Blueprint("webhooks", __name__, url_prefix="/api/tenants/<int:tenant_id>/webhooks")
MANAGERS = ("admin", "msp")


@bp.post("")
@authenticated(roles=MANAGERS)
def create_webhook(tenant_id: int) -> tuple[dict[str, Any], int]:
    """Create a webhook; the secret is in this response only."""
    body = parse_body(WebhookCreateBody)
    flt = body.filter or WebhookFilter()
    events: list[str] = list(body.events)
    webhook, secret = registry.create_webhook(
        current_identity(),
        tenant_id,
        body.url,
        events,
        body.description,
        flt.namespace,
        flt.types,
    )
    return {**webhook.to_dict(), "secret": secret}, 201


@bp.get("")
@authenticated(roles=MANAGERS)
def list_webhooks(tenant_id: int) -> dict[str, Any]:
    """The tenant's webhooks (without secrets)."""
    hooks = registry.list_webhooks(current_identity(), tenant_id)
    return {"webhooks": [hook.to_dict() for hook in hooks]}


@bp.get("/<int:webhook_id>")
@authenticated(roles=MANAGERS)
def get_webhook(tenant_id: int, webhook_id: int) -> dict[str, Any]:
    """One webhook."""
    return registry.get_webhook(current_identity(), tenant_id, webhook_id).to_dict()


@bp.patch("/<int:webhook_id>")
@authenticated(roles=MANAGERS)
def update_webhook(tenant_id: int, webhook_id: int) -> dict[str, Any]:
    """Change url, events, description, filter or enabled."""
    body = parse_body(WebhookPatchBody)
    changes = body.model_dump(exclude_unset=True)
    webhook = registry.update_webhook(
        current_identity(), tenant_id, webhook_id, changes
    )
    return webhook.to_dict()


@bp.delete("/<int:webhook_id>")
@authenticated(roles=MANAGERS)
def delete_webhook(tenant_id: int, webhook_id: int) -> Response:
    """Delete the webhook and its pending deliveries."""
    registry.delete_webhook(current_identity(), tenant_id, webhook_id)
    return Response(status=204)


@bp.post("/<int:webhook_id>/rotate-secret")
@authenticated(roles=MANAGERS)
def rotate_secret(tenant_id: int, webhook_id: int) -> dict[str, Any]:
    """A new secret, shown this once."""
    secret = registry.rotate_secret(current_identity(), tenant_id, webhook_id)
    return {"id": webhook_id, "secret": secret}


@bp.post("/<int:webhook_id>/test")
@authenticated(roles=MANAGERS)
def test_webhook(tenant_id: int, webhook_id: int) -> tuple[dict[str, Any], int]:
    """Queue a ``ping`` delivery; its outcome shows in the delivery log."""
    webhook = registry.get_webhook(current_identity(), tenant_id, webhook_id)
    return outbox.enqueue_ping(webhook).to_dict(), 202


@bp.get("/<int:webhook_id>/deliveries")
@authenticated(roles=MANAGERS)
def list_deliveries(tenant_id: int, webhook_id: int) -> dict[str, Any]:
    """The latest 50 deliveries: state, attempts (status codes), next attempt."""
    webhook = registry.get_webhook(current_identity(), tenant_id, webhook_id)
    return {
        "webhook": webhook.to_dict(),
        "deliveries": [d.to_dict() for d in outbox.recent_deliveries(webhook)],
    }
