"""JWT issuing, the revocation check, and token -> identity for sockets and REST.

Identity comes from the verified claims (``sub``, ``tenant_id``, ``role``) plus the
auth cache (user name and deactivation, tenant kind, an MSP's client tenants), so a
connect needs no database query in the common case.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any, Protocol

import jwt as pyjwt
from flask import Flask, Response, current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException

from webapp.auth.identity import Identity
from webapp.errors import DomainError, error_response
from webapp.extensions import jwt
from webapp.services.tenancy import revocation
from webapp.services.tenancy.auth_cache import auth_cache, init_auth_cache
from webapp.services.tenancy.auth_rows import UserState
from webapp.services.tenancy.visibility import identity_for_user_state

# Access tokens already verified by this process -> their claims. A client that
# reconnects presents the same token again and again, and checking its signature
# costs more than the rest of the connect. Keyed by the whole token (signature
# included), so only a string this app verified itself can hit; its expiry is
# checked again on every hit, its revocation and user as on any connect.
VERIFIED_TOKENS_MAX = 4096
_VERIFIED_KEY = "switchboard.verified_tokens"


class _VerifiedTokens:
    """A bounded map of verified token -> claims (oldest dropped first)."""

    def __init__(self, leeway: float) -> None:
        self.leeway = leeway
        self._lock = threading.Lock()
        self._claims: dict[str, dict[str, Any]] = {}

    def decode(self, token: str) -> dict[str, Any]:
        """``decode_token`` once per token; later calls check only the expiry."""
        claims = self._claims.get(token)
        if claims is None:
            claims = decode_token(token)
            with self._lock:
                if len(self._claims) >= VERIFIED_TOKENS_MAX:
                    self._claims.pop(next(iter(self._claims)))
                self._claims[token] = claims
            return claims
        expires = claims.get("exp")
        if expires is not None and expires + self.leeway <= time.time():
            with self._lock:
                self._claims.pop(token, None)
            raise pyjwt.ExpiredSignatureError("Signature has expired")
        return claims


def _verified_tokens() -> _VerifiedTokens:
    store: _VerifiedTokens | None = current_app.extensions.get(_VERIFIED_KEY)
    if store is None:
        leeway = current_app.config.get("JWT_DECODE_LEEWAY", 0)
        if isinstance(leeway, timedelta):
            leeway = leeway.total_seconds()
        store = current_app.extensions.setdefault(
            _VERIFIED_KEY, _VerifiedTokens(float(leeway))
        )
    return store


class TokenRejected(DomainError):
    """A token refused at socket connect; ``code`` is a documented refusal code."""

    status = 401


class TokenSubject(Protocol):
    """What a token is issued for: a ``User`` row or its cached ``UserState``."""

    @property
    def id(self) -> int: ...  # noqa: D102

    @property
    def tenant_id(self) -> int: ...  # noqa: D102

    @property
    def role(self) -> str: ...  # noqa: D102


def issue_access_token(user: TokenSubject) -> str:
    """An access token carrying ``tenant_id`` and ``role``."""
    return create_access_token(identity=str(user.id), additional_claims=_claims(user))


def issue_refresh_token(user: TokenSubject) -> str:
    """A refresh token for ``/api/auth/refresh``."""
    return create_refresh_token(identity=str(user.id), additional_claims=_claims(user))


def _claims(user: TokenSubject) -> dict[str, Any]:
    return {"tenant_id": user.tenant_id, "role": user.role}


def user_for_claims(claims: dict[str, Any]) -> UserState:
    """The token's user, if it still exists, is active and matches the claims."""
    try:
        user_id = int(claims["sub"])
    except (KeyError, TypeError, ValueError):
        raise TokenRejected(
            "the token has no valid subject", code="invalid_token"
        ) from None
    user = auth_cache().user(user_id)
    if user is None or user.tenant_id != claims.get("tenant_id"):
        raise TokenRejected("the token's user no longer exists", code="invalid_token")
    if user.deactivated:
        raise TokenRejected("the user has been deactivated", code="user_deactivated")
    return user


def identity_for_claims(claims: dict[str, Any], user: UserState) -> Identity:
    """The identity of a verified token's user (role and tenant from the claims)."""
    tenant = auth_cache().tenant(user.tenant_id)
    if tenant is None:
        raise TokenRejected("the token's tenant no longer exists", code="invalid_token")
    role = claims.get("role")
    if role != user.role:  # roles never change today; refuse rather than guess
        raise TokenRejected("the token's role is out of date", code="invalid_token")
    return identity_for_user_state(user, tenant, jti=claims["jti"])


def identity_from_socket_token(token: Any) -> Identity:
    """Validate an access token presented at socket connect.

    ``decode_token`` checks neither the token type nor the revocation list, so both
    are checked here by hand. No database query unless the cache misses.
    """
    if not token:
        raise TokenRejected("an access token is required", code="missing_token")
    if not isinstance(token, str):
        raise TokenRejected("the token must be a string", code="invalid_token")
    try:
        claims = _verified_tokens().decode(token)
    except pyjwt.ExpiredSignatureError as exc:
        raise TokenRejected("the token has expired", code="token_expired") from exc
    except (pyjwt.InvalidTokenError, JWTExtendedException) as exc:
        raise TokenRejected("the token is not valid", code="invalid_token") from exc
    if claims.get("type") != "access":
        raise TokenRejected("an access token is required", code="wrong_token_type")
    if revocation.is_revoked(claims["jti"]):  # also syncs the cache (cluster)
        raise TokenRejected("the token has been revoked", code="token_revoked")
    return identity_for_claims(claims, user_for_claims(claims))


def register_jwt_callbacks(app: Flask) -> None:
    """Wire flask-jwt-extended into the auth cache and the JSON error shape."""
    init_auth_cache(app)

    @jwt.token_in_blocklist_loader
    def _is_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        return revocation.is_revoked(payload["jti"])  # runs first: syncs the cache

    @jwt.user_lookup_loader
    def _load_user(_header: dict[str, Any], payload: dict[str, Any]) -> Any:
        try:
            return user_for_claims(payload)
        except TokenRejected:
            return None

    @jwt.user_lookup_error_loader
    def _user_gone(_header: dict[str, Any], payload: dict[str, Any]) -> Any:
        try:
            user_for_claims(payload)
        except TokenRejected as exc:
            return error_response(401, exc.code, exc.message)
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
