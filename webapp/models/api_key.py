"""API keys for integrations that publish over REST."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import isoformat, utcnow


class ApiKey(db.Model):  # type: ignore[name-defined,misc]
    """A tenant's key; only its prefix and a hash of the secret are stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    revoked_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )

    def to_dict(self) -> dict[str, object]:
        """Public JSON shape (never the key or its hash)."""
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": isoformat(self.created_at),
            "revoked_at": isoformat(self.revoked_at) if self.revoked_at else None,
        }
