"""Users belong to exactly one tenant and have one role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import utcnow

ROLES = ("admin", "msp", "client")


class User(db.Model):  # type: ignore[name-defined,misc]
    """A person who logs in; the tenant and role go into every token."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    # Set when an admin or msp deactivates the user: tokens are refused from then on.
    deactivated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )

    @property
    def is_active(self) -> bool:
        """False once the user has been deactivated."""
        return self.deactivated_at is None

    def to_dict(self) -> dict[str, object]:
        """Public JSON shape (never the hash)."""
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "tenant_id": self.tenant_id,
        }

    def summary(self) -> dict[str, object]:
        """The short form used in socket payloads."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "tenant_id": self.tenant_id,
        }
