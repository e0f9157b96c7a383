"""Collaboration sessions: a tenant's shared space with presence and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow


class CollabSession(db.Model):  # type: ignore[name-defined,misc]
    """A session belongs to one tenant and optionally to one engagement.

    Its messages live in the event log (room ``session:<id>``), not in a table.
    """

    __tablename__ = "collab_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id"), index=True, default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape."""
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "engagement_id": self.engagement_id,
            "title": self.title,
            "created_by": self.created_by,
            "created_at": isoformat(self.created_at),
        }
