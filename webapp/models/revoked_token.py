"""Revoked JWTs, kept until they would have expired anyway."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.time import utcnow


class RevokedToken(db.Model):  # type: ignore[name-defined,misc]
    """A logged-out token's ``jti``; shared by every process through the database."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
