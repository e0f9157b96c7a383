"""/api/publish: integrations publish events to rooms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from webapp.api.schemas import PublishBody, parse_body
from webapp.auth.guards import authenticated, current_identity
from webapp.errors import ValidationFailed
from webapp.services.delivery import publish_request, publisher

bp = Blueprint("publish", __name__, url_prefix="/api/publish")


@bp.post("")
@authenticated(allow_api_key=True)
def publish() -> tuple[dict[str, Any], int]:
    """Validate, persist and emit one event.

    Errors: ``details`` is a list of ``{"field", "message"}`` objects
    (``publish_request.error_details``).
    """
    try:
        body = parse_body(PublishBody)
    except ValidationFailed as exc:
        raise publish_request.error_details(exc) from None
    result = publisher.publish_as(
        current_identity(),
        body.namespace,
        body.event,
        body.data,
        body.target,
        body.idempotency_key,
    )
    return result.to_dict(), 202


@bp.post("/batch")
@authenticated(allow_api_key=True)
def publish_batch() -> tuple[dict[str, Any], int]:
    """Validate every item first, then publish them in order.

    Errors: ``details`` is a list of ``{"field", "message", "index"}`` — the shape
    of a single publish's, plus the item's position.
    """
    payload = request.get_json(silent=True)
    items = payload.get("events") if isinstance(payload, dict) else payload
    if not isinstance(items, list) or not items:
        raise ValidationFailed("the body must be a non-empty list of events")
    limit = current_app.config["PUBLISH_BATCH_MAX"]
    if len(items) > limit:
        raise ValidationFailed(
            f"at most {limit} events per batch", status=413, code="batch_too_large"
        )
    parsed = []
    for index, item in enumerate(items):
        try:
            body = parse_body(PublishBody, item)
        except ValidationFailed as exc:
            raise publish_request.error_details(exc, index) from None
        parsed.append(
            publish_request.BatchItem(
                body.namespace, body.event, body.data, body.target, body.idempotency_key
            )
        )
    results = publisher.publish_batch(current_identity(), parsed)
    return {"results": [result.to_dict() for result in results]}, 202
