"""Engagements between an MSP and one of its client tenants, and their counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow

ENGAGEMENT_STATUSES = ("active", "paused", "archived")


class Engagement(db.Model):  # type: ignore[name-defined,misc]
    """An MSP's work with one client tenant; broadcast to ``tenant:<client>``."""

    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(primary_key=True)
    msp_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    client_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    counters: Mapped[list[InteractionCounter]] = relationship(
        order_by="InteractionCounter.kind", lazy="selectin", viewonly=True
    )

    def counter_values(self) -> dict[str, int]:
        """Interaction counts by kind."""
        return {counter.kind: counter.count for counter in self.counters}

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (REST and ``engagement_update``)."""
        return {
            "id": self.id,
            "msp_tenant_id": self.msp_tenant_id,
            "client_tenant_id": self.client_tenant_id,
            "title": self.title,
            "status": self.status,
            "counters": self.counter_values(),
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }


class InteractionCounter(db.Model):  # type: ignore[name-defined,misc]
    """One interaction kind's count; incremented in the database, never in Python."""

    __tablename__ = "engagement_interactions"

    engagement_id: Mapped[int] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
