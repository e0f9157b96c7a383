"""Interventions: work items a tenant's operators move from open to done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow

INTERVENTION_STATUSES = ("open", "in_progress", "done")
# Status only moves forward: open -> in_progress -> done; anything else is a 409.
INTERVENTION_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_progress",),
    "in_progress": ("done",),
    "done": (),
}


class Intervention(db.Model):  # type: ignore[name-defined,misc]
    """One intervention, optionally raised in response to an alert."""

    __tablename__ = "interventions"
    __table_args__ = (
        Index("ix_interventions_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id"), index=True, default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (REST responses and the ``intervention`` payload)."""
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "alert_id": self.alert_id,
            "title": self.title,
            "description": self.description,
            "assignee": self.assignee,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }
