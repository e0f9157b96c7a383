"""What a publish is: a checked request (event, room, tenant) and its result.

``prepare`` turns a caller's (namespace, event, data, target) into a
``PublishRequest``: the event is declared, the payload valid, the target one the
caller may reach. Errors carry ``details`` naming the field (``error_details``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask import current_app

from webapp.auth.identity import Identity
from webapp.errors import DomainError, Forbidden, ValidationFailed
from webapp.event_registry import EventType, get_event_type, validate_payload
from webapp.input_guard import check_json_depth, contains_nul
from webapp.services.cluster import message_queue
from webapp.services.delivery import targets


@dataclass(frozen=True)
class PublishResult:
    """What a publish produced; ``duplicate`` means an idempotent repeat."""

    envelope: dict[str, Any]
    duplicate: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The REST response body."""
        return {
            "id": self.envelope["id"],
            "event": self.envelope["type"],
            "room": self.envelope["room"],
            "duplicate": self.duplicate,
        }


@dataclass(frozen=True)
class PublishRequest:
    """A validated request, ready to persist and emit."""

    event_type: EventType
    data: dict[str, Any]
    room: str
    tenant_id: int
    idempotency_key: str | None = None
    # SHA-256 of the canonical request, kept with an idempotency key so that
    # reusing the key for another request is a conflict.
    request_hash: str | None = None


def request_hash(event_type: EventType, room: str, data: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical request: namespace, event, target room, data."""
    canonical = json.dumps(
        [event_type.namespace, event_type.name, room, data],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _flat(data: Any) -> bool:
    return isinstance(data, dict) and not any(
        isinstance(value, dict | list) for value in data.values()
    )


def checked_request(
    event_type: EventType,
    data: Any,
    room: str,
    tenant_id: int,
    idempotency_key: str | None,
) -> PublishRequest:
    # Depth first: a hostile document must not reach the schema validator's
    # recursion (or the JSON encoder's) at all.
    if not _flat(data):  # most payloads are one flat object: nothing to walk
        check_json_depth(data, current_app.config.get("MAX_JSON_DEPTH", 32), "data")
    if idempotency_key is not None and contains_nul(idempotency_key):
        # PostgreSQL cannot store it; refused alike on every database.
        raise ValidationFailed(
            "idempotency_key must not contain NUL",
            details=[{"field": "idempotency_key"}],
        )
    clean = validate_payload(event_type, data)
    digest = request_hash(event_type, room, clean) if idempotency_key else None
    return PublishRequest(event_type, clean, room, tenant_id, idempotency_key, digest)


def prepare(
    identity: Identity,
    namespace: str,
    event: str,
    data: Any,
    target: Any,
    idempotency_key: str | None = None,
    resolved: dict[tuple[str, int], tuple[str, int]] | None = None,
) -> PublishRequest:
    """Check that ``identity`` may publish this event to this target, and validate.

    Also refuses (503) while the message queue is down, before anything persists.
    ``resolved`` memoises target lookups across the items of one batch.
    """
    message_queue.ensure_available()
    event_type = get_event_type(namespace, event)
    if identity.role not in event_type.publishers:
        raise Forbidden(f"{identity.role!r} may not publish {event!r}")
    kind, target_id = targets.parse_target(target)
    if kind not in event_type.targets:
        raise ValidationFailed(
            f"{event!r} may target only: " + ", ".join(sorted(event_type.targets)),
            code="target_not_allowed",
            details=[{"field": "target"}],
        )
    resolver = targets.TARGET_RESOLVERS.get(kind)
    if resolver is None:
        raise ValidationFailed(
            f"target kind {kind!r} is not available", details=[{"field": "target"}]
        )
    if resolved is not None and (kind, target_id) in resolved:
        room, tenant_id = resolved[(kind, target_id)]
    else:
        room, tenant_id = resolver(identity, target_id)
        if resolved is not None:
            resolved[(kind, target_id)] = (room, tenant_id)
    return checked_request(event_type, data, room, tenant_id, idempotency_key)


def error_details(exc: DomainError, index: int | None = None) -> DomainError:
    """Give a publish error the one ``details`` shape of single and batch publish.

    ``details`` is a list of ``{"field": <dotted path or null>, "message": <text>}``
    objects; in a batch each also has ``"index"`` (the item's position). Returns
    ``exc`` (changed in place) for ``raise``.
    """
    entries = exc.details if isinstance(exc.details, list) else None
    if not entries:
        entries = [{"field": None}]
    shaped = []
    for entry in entries:
        item = dict(entry) if isinstance(entry, dict) else {"field": None}
        item.setdefault("field", None)
        item.setdefault("message", exc.message)
        if index is not None:
            item["index"] = index
        shaped.append(item)
    exc.details = shaped
    return exc


@dataclass(frozen=True)
class BatchItem:
    """One parsed item of ``POST /api/publish/batch``."""

    namespace: str
    event: str
    data: Any
    target: Any
    idempotency_key: str | None = None
