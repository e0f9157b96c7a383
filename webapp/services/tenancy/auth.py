"""Login, refresh and logout."""

from __future__ import annotations

from typing import Any

import jwt as pyjwt
from flask import current_app
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from sqlalchemy import func, select

from webapp import metrics
from webapp.auth.passwords import verify_password
from webapp.auth.tokens import issue_access_token, issue_refresh_token
from webapp.errors import Unauthorized, ValidationFailed
from webapp.extensions import db
from webapp.models import Tenant, User
from webapp.services.cluster import connections
from webapp.services.delivery import to_connection
from webapp.services.tenancy import login_throttle, revocation
from webapp.services.tenancy.auth_rows import UserState


def login(email: str, password: str, address: str | None = None) -> dict[str, Any]:
    """Check credentials and issue tokens; repeated failures are throttled (429)."""
    login_throttle.check_allowed(email, address)
    user = db.session.scalar(
        select(User).where(func.lower(User.email) == email.lower())
    )
    if (
        not verify_password(user.password_hash if user else None, password)
        or user is None
    ):
        login_throttle.record_failure(email, address)
        metrics.login_failed("invalid_credentials")
        raise Unauthorized("wrong email or password", code="invalid_credentials")
    login_throttle.record_success(email, address)
    if not user.is_active:  # told only to whoever knows the password
        metrics.login_failed("user_deactivated")
        raise Unauthorized("this user has been deactivated", code="user_deactivated")
    return {
        "access_token": issue_access_token(user),
        "refresh_token": issue_refresh_token(user),
        "expires_in": _access_ttl(),
        "user": user.to_dict(),
    }


def refresh(user: UserState) -> dict[str, Any]:
    """A new access token for the holder of a valid refresh token."""
    return {"access_token": issue_access_token(user), "expires_in": _access_ttl()}


def logout(jti: str, expires_at_epoch: int) -> int:
    """Revoke a token and disconnect its live sockets; returns how many closed."""
    revocation.revoke(jti, expires_at_epoch)
    closed = 0
    for info in connections.registry().for_token(jti):
        to_connection.disconnect_connection(info.sid, info.namespace)
        closed += 1
    return closed


def revoke_refresh_token(user: UserState, token: str) -> None:
    """Revoke the caller's own refresh token too (logout everywhere it was used)."""
    try:
        claims = decode_token(token, allow_expired=True)
    except (pyjwt.InvalidTokenError, JWTExtendedException) as exc:
        raise ValidationFailed(
            "refresh_token is not a valid token", details=[{"field": "refresh_token"}]
        ) from exc
    if claims.get("type") != "refresh" or claims.get("sub") != str(user.id):
        raise ValidationFailed(
            "refresh_token must be your own refresh token",
            details=[{"field": "refresh_token"}],
        )
    revocation.revoke(claims["jti"], claims["exp"])


def me(user: UserState) -> dict[str, Any]:
    """The caller and their tenant."""
    row = db.session.get(User, user.id)
    tenant = db.session.get(Tenant, user.tenant_id)
    return {
        "user": row.to_dict() if row else None,
        "tenant": tenant.to_dict() if tenant else None,
    }


def _access_ttl() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
