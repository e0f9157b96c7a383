"""AI agent runs: one per request a user made; its events go to that user only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow

RUN_STATUSES = ("running", "completed", "failed")


class AgentRun(db.Model):  # type: ignore[name-defined,misc]
    """A run's owner, state and how many events it has sent so far."""

    __tablename__ = "agent_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="running")
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    finished_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape."""
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "name": self.name,
            "status": self.status,
            "event_count": self.event_count,
            "created_at": isoformat(self.created_at),
            "finished_at": isoformat(self.finished_at) if self.finished_at else None,
        }
