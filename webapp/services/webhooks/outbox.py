"""The delivery outbox: every payload is a row before anything is sent.

Rows for ``event.published`` are inserted in the event log's own transaction
(``stage_published``), so an event is committed together with its deliveries or
not at all; presence transitions and pings insert theirs on their own. A restart
or a kill -9 loses nothing: the sender picks up whatever is pending.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.models import Webhook, WebhookDelivery
from webapp.models.time import isoformat, utcnow
from webapp.services.cluster.presence import PresenceChange
from webapp.services.webhooks.registry import PING, PUBLISHED

logger = logging.getLogger(__name__)

WEBHOOKS = Webhook.__table__
DELIVERIES = WebhookDelivery.__table__
INSERT_DELIVERIES = insert(DELIVERIES)
# Only what matching needs (no secret). Built once, with an expanding parameter:
# it runs in every publish group, and a statement built per call costs its
# cache-key walk each time.
# FOR KEY SHARE (PostgreSQL; SQLite has one writer anyway): a webhook read here
# cannot be deleted before this transaction has inserted its deliveries (a
# DELETE committed in between would fail the publish on the foreign key). It
# does not block a PATCH or the sender's lease, which leave the key alone.
SUBSCRIBERS = (
    select(
        WEBHOOKS.c.id,
        WEBHOOKS.c.tenant_id,
        WEBHOOKS.c.events,
        WEBHOOKS.c.filter_namespace,
        WEBHOOKS.c.filter_types,
    )
    .where(
        WEBHOOKS.c.enabled.is_(True),
        WEBHOOKS.c.tenant_id.in_(bindparam("tenant_ids", expanding=True)),
    )
    .with_for_update(read=True, key_share=True)
)


def new_event_id() -> str:
    """A payload id, stable across retries (receivers dedupe on it)."""
    return "evt_" + uuid.uuid4().hex


def payload(
    event_id: str, kind: str, tenant_id: int, created_at: datetime, data: Any
) -> str:
    """The exact JSON body every attempt of a delivery sends."""
    return json.dumps(
        {
            "id": event_id,
            "type": kind,
            "tenant_id": tenant_id,
            "created_at": isoformat(created_at),
            "data": data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _row(
    webhook_id: int, tenant_id: int, event_id: str, kind: str, body: str, now: datetime
) -> dict[str, Any]:
    return {
        "webhook_id": webhook_id,
        "tenant_id": tenant_id,
        "event_id": event_id,
        "type": kind,
        "body": body,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "attempt_log": [],
        "created_at": now,
        "delivered_at": None,
    }


def _subscribers(
    executor: Connection | Session, tenant_ids: Iterable[int]
) -> list[Any]:
    wanted = sorted(set(tenant_ids))
    return list(executor.execute(SUBSCRIBERS, {"tenant_ids": wanted}))


def _published_matches(hook: Any, row: dict[str, Any]) -> bool:
    if PUBLISHED not in hook.events or hook.tenant_id != row["tenant_id"]:
        return False
    if hook.filter_namespace and hook.filter_namespace != row["namespace"]:
        return False
    return not hook.filter_types or row["type"] in hook.filter_types


def stage_published(
    executor: Connection | Session,
    rows: list[dict[str, Any]],
    ids: list[int],
    now: datetime,
) -> None:
    """Queue ``event.published`` deliveries for new events, in their transaction.

    ``rows`` are the event-log rows just inserted and ``ids`` their ids. One
    query for the group's tenants' webhooks; nothing more when none subscribe.
    """
    hooks = [
        h
        for h in _subscribers(executor, {r["tenant_id"] for r in rows})
        if PUBLISHED in h.events
    ]
    if not hooks:
        return
    stamp = isoformat(now)
    deliveries: list[dict[str, Any]] = []
    for event_id, row in zip(ids, rows, strict=True):
        matching = [h for h in hooks if _published_matches(h, row)]
        if not matching:
            continue
        data = {
            "id": event_id,
            "type": row["type"],
            "namespace": row["namespace"],
            "tenant_id": row["tenant_id"],
            "room": row["room"],
            "data": row["data"],
            "timestamp": stamp,
        }
        payload_id = new_event_id()
        body = payload(payload_id, PUBLISHED, row["tenant_id"], now, data)
        deliveries.extend(
            _row(h.id, row["tenant_id"], payload_id, PUBLISHED, body, now)
            for h in matching
        )
    if deliveries:
        executor.execute(INSERT_DELIVERIES, deliveries)


def presence_kinds(change: PresenceChange, joined: bool) -> list[str]:
    """The webhook kinds one presence change makes (none if nobody came or went).

    ``change`` was decided cluster-wide (first tab anywhere, last tab anywhere),
    so exactly one process gets ``changed`` for a transition.
    """
    if not change.changed:
        return []
    if joined:
        first = ["session.occupied"] if change.count == 1 else []
        return [*first, "session.member_added"]
    last = ["session.vacated"] if change.count == 0 else []
    return ["session.member_removed", *last]


def presence_changed(change: PresenceChange, tenant_id: int, joined: bool) -> None:
    """Queue the webhooks of a session join or leave (one line in the session code).

    Best effort towards the socket: a failure here is logged, and never fails the
    join or leave that the user asked for.
    """
    kinds = presence_kinds(change, joined)
    if not kinds:
        return
    try:
        hooks = _subscribers(db.session(), [tenant_id])
        wanted = [h for h in hooks if any(k in h.events for k in kinds)]
        if not wanted:
            return
        now = utcnow()
        data = {
            "session_id": change.session_id,
            "user": change.user,
            "count": change.count,
        }
        rows: list[dict[str, Any]] = []
        for kind in kinds:
            event_id = new_event_id()
            body = payload(event_id, kind, tenant_id, now, data)
            rows.extend(
                _row(h.id, tenant_id, event_id, kind, body, now)
                for h in wanted
                if kind in h.events
            )
        db.session.execute(INSERT_DELIVERIES, rows)
        db.session.commit()
    except Exception:
        logger.exception("could not queue presence webhooks for %s", kinds)
        db.session.rollback()


def enqueue_ping(webhook: Webhook) -> WebhookDelivery:
    """Queue a ``ping`` to one webhook (``POST …/test``)."""
    now = utcnow()
    event_id = new_event_id()
    data = {"webhook_id": webhook.id, "message": "ping from Switchboard"}
    delivery = WebhookDelivery(
        **_row(
            webhook.id,
            webhook.tenant_id,
            event_id,
            PING,
            payload(event_id, PING, webhook.tenant_id, now, data),
            now,
        )
    )
    db.session.add(delivery)
    db.session.commit()
    return delivery


def recent_deliveries(webhook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    """A webhook's latest deliveries, newest first."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
