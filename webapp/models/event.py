"""The event log: every persisted event, in id order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow

# BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(db.Model):  # type: ignore[name-defined,misc]
    """One persisted event; its id is what clients resume from."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_events_idempotency"),
        Index("ix_events_room_id", "room", "id"),
        Index("ix_events_tenant_id_id", "tenant_id", "id"),
        # Ids must never be reused, even after pruning every row: without
        # AUTOINCREMENT SQLite hands out max(id) + 1 again.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    namespace: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    # SHA-256 of the request behind ``idempotency_key``: a reuse with another body
    # is a conflict, not a silent repeat.
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)

    def envelope(self) -> dict[str, Any]:
        """The wire envelope every client receives (see docs/architecture.md)."""
        return {
            "id": self.id,
            "type": self.type,
            "namespace": self.namespace,
            "tenant_id": self.tenant_id,
            "room": self.room,
            "data": self.data,
            "timestamp": isoformat(self.created_at),
        }
