"""The sender: in every serving process, a background task delivering the outbox.

Each poll it leases webhooks that have due deliveries (``lease``) and drains each
in a task of its own: deliveries in id order, one at a time, so a webhook's
receiver gets them in order while it keeps up; a failed one waits for its retry
while later ones go ahead. Tasks are ``start_background_task`` (green threads
under eventlet/gevent), so waiting on a receiver never blocks the hub.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, select, update

from webapp.extensions import db, get_socketio
from webapp.models import Webhook, WebhookDelivery
from webapp.models.time import isoformat, utcnow
from webapp.services.webhooks import lease, metrics, retry_policy
from webapp.services.webhooks.poster import Outcome, post
from webapp.services.webhooks.settings import WebhookSettings

logger = logging.getLogger(__name__)

EXTENSION = "switchboard.webhook_sender"
DEPTH_EVERY = 5  # polls between queue-depth counts
PRUNE_EVERY = 600.0  # seconds between prunings of finished deliveries
MAX_LOG_ENTRIES = 20  # attempts kept in a delivery's log


@dataclass(frozen=True)
class _Job:
    """What one attempt needs, read before the HTTP call (no session held)."""

    delivery_id: int
    url: str
    secrets: tuple[str, ...]  # the current one, and the previous during its grace
    event_id: str
    body: bytes
    attempt: int


class WebhookSender:
    """One per serving process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.settings = WebhookSettings.of(app)
        self.active: set[int] = set()

    def start(self) -> None:
        """Start polling in the background."""
        get_socketio(self.app).start_background_task(self._run)

    def _run(self) -> None:
        sio = get_socketio(self.app)
        polls = 0
        pruned = time.monotonic()
        while True:
            sio.sleep(self.settings.poll_interval)
            with self.app.app_context():
                try:
                    if polls % DEPTH_EVERY == 0:
                        metrics.QUEUE_DEPTH.set(pending_count())
                    if time.monotonic() - pruned > PRUNE_EVERY:
                        pruned = time.monotonic()
                        prune(self.settings.retention)
                    self.poll()
                except Exception as exc:  # the database may be down: next poll
                    logger.warning("webhook sender poll failed (%s)", exc)
                    db.session.rollback()
            polls += 1

    def poll(self) -> None:
        """Lease due webhooks and start draining each (up to the concurrency)."""
        free = self.settings.concurrency - len(self.active)
        if free <= 0:
            return
        owner = lease.process_owner()
        for webhook_id in lease.due_webhooks(owner, free + len(self.active)):
            if (
                webhook_id in self.active
                or len(self.active) >= self.settings.concurrency
            ):
                continue
            if lease.acquire(webhook_id, owner, self.settings.lease):
                self.active.add(webhook_id)
                get_socketio(self.app).start_background_task(self._drain, webhook_id)

    def _drain(self, webhook_id: int) -> None:
        owner = lease.process_owner()
        with self.app.app_context():
            try:
                # The lease was taken by ``poll``; recording each attempt extends
                # it (one write per attempt), so it outlives the next attempt.
                while (job := _next_job(webhook_id)) is not None:
                    outcome = post(
                        job.url,
                        job.secrets,
                        job.event_id,
                        job.body,
                        job.attempt,
                        self.settings,
                    )
                    if not record(job, outcome, self.settings, owner):
                        break  # the lease was lost: another process goes on
            except Exception:
                logger.exception("webhook %s: sending failed", webhook_id)
                db.session.rollback()
            finally:
                try:
                    lease.release(webhook_id, owner)
                except Exception as exc:  # it expires on its own
                    logger.warning(
                        "webhook %s: lease not released (%s)", webhook_id, exc
                    )
                    db.session.rollback()
                self.active.discard(webhook_id)


def _next_job(webhook_id: int) -> _Job | None:
    """The webhook's oldest due delivery, read and released before sending."""
    now = utcnow()
    row = db.session.execute(
        select(
            WebhookDelivery,
            Webhook.url,
            Webhook.secret,
            Webhook.previous_secret,
            Webhook.previous_secret_until,
            Webhook.enabled,
        )
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    ).first()
    job = None
    if row is not None and row.enabled:
        delivery = row[0]
        job = _Job(
            delivery.id,
            row.url,
            _signing_secrets(row, now),
            delivery.event_id,
            delivery.body.encode(),
            delivery.attempts + 1,
        )
    db.session.commit()  # no transaction (or pooled connection) across the call
    return job


def _signing_secrets(row: Any, now: datetime) -> tuple[str, ...]:
    """The secret, plus the previous one while its grace after a rotation lasts."""
    until = row.previous_secret_until
    if row.previous_secret is None or until is None:
        return (row.secret,)
    if until.tzinfo is None:  # SQLite gives naive UTC back
        until = until.replace(tzinfo=now.tzinfo)
    return (row.secret, row.previous_secret) if now < until else (row.secret,)


def record(job: _Job, outcome: Outcome, settings: WebhookSettings, owner: str) -> bool:
    """Log the attempt; schedule a retry, or finish the delivery.

    First extends this process's lease on the webhook, in the same transaction:
    if the lease was lost (another process took the webhook), nothing is written
    and it returns False. The delivery is updated only while still ``pending``,
    so a result can never overwrite another process's.
    """
    now = utcnow()
    delivery = db.session.get(WebhookDelivery, job.delivery_id)
    if delivery is None or not lease.extend(
        delivery.webhook_id, owner, settings.lease
    ):  # deleted meanwhile, or another process owns the webhook now
        db.session.rollback()
        return False
    webhook = db.session.get(Webhook, delivery.webhook_id)
    entry: dict[str, Any] = {
        "attempt": job.attempt,
        "at": isoformat(now),
        "status": outcome.status,
        "error": outcome.error,
        "duration_ms": round(outcome.duration * 1000, 1),
        "response": outcome.response,
    }
    values: dict[str, Any] = {"attempts": job.attempt}
    if outcome.ok:
        result = "delivered"
        values.update(state="delivered", delivered_at=now, next_attempt_at=None)
    else:
        retry = retry_policy.is_retryable(outcome.status)
        if retry and job.attempt < settings.max_attempts:
            wait = retry_policy.backoff(job.attempt, settings.backoff_base)
            asked = retry_policy.retry_after(outcome.retry_after)
            if asked is not None and outcome.status in (408, 429, 503):
                wait = max(wait, asked)
            result = "retrying"
            values["next_attempt_at"] = now + timedelta(seconds=wait)
            entry["next_attempt_at"] = isoformat(values["next_attempt_at"])
        else:
            result = "failed"
            values.update(state="failed", next_attempt_at=None)
    log = [*(delivery.attempt_log or []), entry][-MAX_LOG_ENTRIES:]
    updated = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.state == "pending",
        )
        .values(attempt_log=log, **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(updated, "rowcount", 0) != 1:  # finished by someone else already
        db.session.rollback()
        return False
    if webhook is not None:
        if outcome.ok:
            webhook.failing_since = None
        else:
            _note_failure(webhook, now, settings)
    db.session.commit()
    metrics.LATENCY.observe(outcome.duration)
    metrics.ATTEMPTS.labels(result).inc()
    return True


def _note_failure(webhook: Webhook, now: Any, settings: WebhookSettings) -> None:
    """A day (``WEBHOOK_DISABLE_AFTER``) of nothing but failures disables it."""
    since = webhook.failing_since
    if since is None:
        webhook.failing_since = now
        since = now
    if since.tzinfo is None:  # SQLite gives naive UTC back
        since = since.replace(tzinfo=now.tzinfo)
    if webhook.enabled and (now - since).total_seconds() >= settings.disable_after:
        webhook.enabled = False
        webhook.disabled_reason = (
            f"every delivery failed since {isoformat(since)}; re-enable with PATCH"
            ' {"enabled": true}'
        )
        webhook.updated_at = now
        logger.warning("webhook %s disabled: failing since %s", webhook.id, since)


def prune(retention: float) -> int:
    """Delete delivered and failed deliveries older than ``retention`` seconds."""
    cutoff = utcnow() - timedelta(seconds=retention)
    result = db.session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.state.in_(("delivered", "failed")),
            WebhookDelivery.created_at < cutoff,
        )
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def pending_count() -> int:
    """Deliveries waiting in the outbox for enabled webhooks (cluster-wide)."""
    # A disabled webhook's deliveries wait for a re-enable that may never come:
    # not counted, or the gauge (and its alert) would stay up for ever.
    count = db.session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.state == "pending", Webhook.enabled.is_(True))
    )
    db.session.commit()
    return int(count or 0)


def start_webhook_sender(app: Flask) -> None:
    """Start this process's sender (serving processes only)."""
    if EXTENSION not in app.extensions:
        sender = app.extensions[EXTENSION] = WebhookSender(app)
        sender.start()
