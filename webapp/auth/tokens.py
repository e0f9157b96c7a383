"""JWT issuing, the revocation check, and token -> identity for sockets."""

from __future__ import annotations

from typing import Any

import jwt as pyjwt
from flask import Flask, Response
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException

from webapp.auth.identity import Identity
from webapp.errors import DomainError, error_response
from webapp.extensions import db, jwt
from webapp.models import User
from webapp.services import revocation
from webapp.services.tenancy import identity_for_user


class TokenRejected(DomainError):
    """A token refused at socket connect; ``code`` is the DESIGN section 6 code."""

    status = 401


def issue_access_token(user: User) -> str:
    """An access token carrying ``tenant_id`` and ``role``."""
    return create_access_token(identity=str(user.id), additional_claims=_claims(user))


def issue_refresh_token(user: User) -> str:
    """A refresh token for ``/api/auth/refresh``."""
    return create_refresh_token(identity=str(user.id), additional_claims=_claims(user))


def _claims(user: User) -> dict[str, Any]:
    return {"tenant_id": user.tenant_id, "role": user.role}


def identity_from_socket_token(token: Any) -> Identity:
    """Validate an access token presented at socket connect.

    ``decode_token`` checks neither the token type nor the revocation list, so both
    are checked here by hand.
    """
    if not token:
        raise TokenRejected("an access token is required", code="missing_token")
    if not isinstance(token, str):
        raise TokenRejected("the token must be a string", code="invalid_token")
    try:
        claims = decode_token(token)
    except pyjwt.ExpiredSignatureError as exc:
        raise TokenRejected("the token has expired", code="token_expired") from exc
    except (pyjwt.InvalidTokenError, JWTExtendedException) as exc:
        raise TokenRejected("the token is not valid", code="invalid_token") from exc
    if claims.get("type") != "access":
        raise TokenRejected("an access token is required", code="wrong_token_type")
    if revocation.is_revoked(claims["jti"]):
        raise TokenRejected("the token has been revoked", code="token_revoked")
    user = db.session.get(User, int(claims["sub"]))
    if user is None:
        raise TokenRejected("the token's user no longer exists", code="invalid_token")
    return identity_for_user(user, jti=claims["jti"])


def register_jwt_callbacks(app: Flask) -> None:
    """Wire flask-jwt-extended into the revocation store and the JSON error shape."""

    @jwt.token_in_blocklist_loader
    def _is_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        return revocation.is_revoked(payload["jti"])

    @jwt.user_lookup_loader
    def _load_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        return db.session.get(User, int(payload["sub"]))

    @jwt.user_lookup_error_loader
    def _user_gone(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
        return error_response(401, "invalid_token", "the token's user no longer exists")

    @jwt.unauthorized_loader
    def _missing(reason: str) -> tuple[Response, int]:
        return error_response(401, "missing_token", reason)

    @jwt.invalid_token_loader
    def _invalid(reason: str) -> tuple[Response, int]:
        return error_response(401, "invalid_token", reason)

    @jwt.expired_token_loader
    def _expired(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
        return error_response(401, "token_expired", "the token has expired")

    @jwt.revoked_token_loader
    def _revoked(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
        return error_response(401, "token_revoked", "the token has been revoked")

    @jwt.needs_fresh_token_loader
    def _not_fresh(_header: dict[str, Any], _payload: dict[str, Any]) -> Any:
        return error_response(401, "fresh_token_required", "a fresh token is required")

    from flask_jwt_extended.exceptions import WrongTokenError

    @app.errorhandler(WrongTokenError)
    def _wrong_type(exc: WrongTokenError) -> tuple[Response, int]:
        return error_response(401, "wrong_token_type", str(exc))
