"""Security events and the detections attached to them (the /events domain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow

SEVERITIES = ("info", "low", "medium", "high", "critical")


class SecurityEvent(db.Model):  # type: ignore[name-defined,misc]
    """Something a camera or another source reported, with a severity."""

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_tenant_id_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    source: Mapped[str] = mapped_column(String(200))
    camera_id: Mapped[str | None] = mapped_column(String(128), default=None)
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(2000))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (also the ``new_event`` payload)."""
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "source": self.source,
            "camera_id": self.camera_id,
            "severity": self.severity,
            "summary": self.summary,
            "occurred_at": isoformat(self.occurred_at),
        }


class Detection(db.Model):  # type: ignore[name-defined,misc]
    """An object detected in a security event, with an optional bounding box."""

    __tablename__ = "detections"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("security_events.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(Float)
    # {x, y, width, height}, each a fraction of the frame in [0, 1].
    bbox: Mapped[dict[str, float] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (also the ``detection`` payload)."""
        return {
            "id": self.id,
            "event_id": self.event_id,
            "tenant_id": self.tenant_id,
            "label": self.label,
            "confidence": self.confidence,
            "bbox": self.bbox,
            "created_at": isoformat(self.created_at),
        }
