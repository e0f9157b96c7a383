"""Webhooks: a tenant's HTTP endpoints, and the outbox of deliveries to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow

# BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
DeliveryId = BigInteger().with_variant(Integer(), "sqlite")


def _iso(value: datetime | None) -> str | None:
    return isoformat(value) if value is not None else None


class Webhook(db.Model):  # type: ignore[name-defined,misc]
    """One endpoint of a tenant and the event kinds it subscribes to."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    events: Mapped[list[str]] = mapped_column(JSON)
    # ``event.published`` filter: only this namespace / these event types.
    filter_namespace: Mapped[str | None] = mapped_column(String(32), default=None)
    filter_types: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # Kept in clear: signing needs it (like any HMAC webhook secret).
    secret: Mapped[str] = mapped_column(String(128))
    # After a rotation the old secret signs too, until ``previous_secret_until``
    # (WEBHOOK_SECRET_GRACE): receivers switch over without refusing deliveries.
    previous_secret: Mapped[str | None] = mapped_column(String(128), default=None)
    previous_secret_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    # First failure since the last success: a day of failures disables the hook.
    failing_since: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    # Which process sends this webhook's deliveries right now (one at a time).
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    @property
    def status(self) -> str:
        """``active``, ``failing`` (since ``failing_since``) or ``disabled``."""
        if not self.enabled:
            return "disabled"
        return "failing" if self.failing_since is not None else "active"

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (never the secret)."""
        filters: dict[str, Any] = {}
        if self.filter_namespace:
            filters["namespace"] = self.filter_namespace
        if self.filter_types:
            filters["types"] = list(self.filter_types)
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "url": self.url,
            "description": self.description,
            "events": list(self.events),
            "filter": filters or None,
            "enabled": self.enabled,
            "status": self.status,
            "disabled_reason": self.disabled_reason,
            "failing_since": _iso(self.failing_since),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


class WebhookDelivery(db.Model):  # type: ignore[name-defined,misc]
    """One payload for one webhook: written before it is sent, kept as its log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(DeliveryId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE")
    )
    tenant_id: Mapped[int] = mapped_column(Integer)
    # The payload's stable ``id`` (receivers dedupe on it) and ``type``.
    event_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(40))
    # The exact body sent on every attempt (the signature covers these bytes).
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    # One entry per attempt: at, status, error, duration_ms, response (a prefix).
    attempt_log: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    delivered_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )

    def to_dict(self) -> dict[str, Any]:
        """The delivery log entry."""
        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "type": self.type,
            "state": self.state,
            "attempts": self.attempts,
            "attempt_log": list(self.attempt_log or []),
            "next_attempt_at": (
                _iso(self.next_attempt_at) if self.state == "pending" else None
            ),
            "created_at": _iso(self.created_at),
            "delivered_at": _iso(self.delivered_at),
        }
