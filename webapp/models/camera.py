"""Cameras and their last known status (the /system domain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow

CAMERA_STATUSES = ("online", "offline", "error")


class Camera(db.Model):  # type: ignore[name-defined,misc]
    """A tenant's camera, known by the integration's own id (``camera_id``)."""

    __tablename__ = "cameras"
    __table_args__ = (
        UniqueConstraint("tenant_id", "camera_id", name="uq_cameras_tenant_camera"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    camera_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(1000), default=None)
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (the snapshot's ``cameras`` entries)."""
        return {
            "camera_id": self.camera_id,
            "tenant_id": self.tenant_id,
            "status": self.status,
            "detail": self.detail,
            "changed_at": isoformat(self.changed_at),
            "updated_at": isoformat(self.updated_at),
        }
