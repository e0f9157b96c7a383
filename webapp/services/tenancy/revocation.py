"""Revoked tokens: the database is the durable record, the auth cache the fast check."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import RevokedToken
from webapp.models.time import utcnow
from webapp.services.tenancy.auth_cache import auth_cache


def revoke(jti: str, expires_at_epoch: int) -> None:
    """Record ``jti`` as revoked until the token would have expired."""
    db.session.add(
        RevokedToken(jti=jti, expires_at=datetime.fromtimestamp(expires_at_epoch, UTC))
    )
    try:
        db.session.commit()
    except IntegrityError:  # revoked twice: already recorded
        db.session.rollback()
    auth_cache().add_revoked(jti, expires_at_epoch)


def is_revoked(jti: str) -> bool:
    """True if the token was revoked (no database query in the common case)."""
    return auth_cache().check_revoked(jti)


def prune_expired() -> int:
    """Drop entries whose tokens have expired anyway; returns how many."""
    result = db.session.execute(
        delete(RevokedToken).where(RevokedToken.expires_at < utcnow())
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
