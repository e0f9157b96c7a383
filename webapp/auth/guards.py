"""REST guards: resolve the caller to an ``Identity`` and check roles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request
from flask_jwt_extended import get_current_user, get_jwt, verify_jwt_in_request

from webapp.auth.api_keys import hash_api_key, split_prefix
from webapp.auth.identity import INTEGRATION_ROLE, Identity
from webapp.auth.tokens import identity_for_claims
from webapp.errors import Forbidden, Unauthorized
from webapp.services.tenancy.auth_cache import auth_cache

F = TypeVar("F", bound=Callable[..., Any])
API_KEY_HEADER = "X-API-Key"


def identity_from_api_key(key: str) -> Identity:
    """Resolve an ``X-API-Key`` header to the integration identity.

    From the auth cache (no query) once the key was verified on this process; a
    revocation or a change to its tenant clears it, on every process.
    """
    prefix = split_prefix(key)
    cache = auth_cache()
    # In a cluster: one Redis read, so a key revoked on another process (or a
    # client tenant added there) is seen on this very request.
    cache.sync()
    record = cache.api_key(prefix, hash_api_key(key)) if prefix else None
    tenant = cache.tenant(record.tenant_id) if record is not None else None
    if record is None or tenant is None:
        raise Unauthorized("the API key is not valid", code="invalid_api_key")
    return Identity(
        tenant_id=tenant.id,
        role=INTEGRATION_ROLE,
        tenant_kind=tenant.kind,
        name=record.name,
        api_key_id=record.id,
        visible_tenant_ids=tenant.visible_ids,
    )


def _identity_from_jwt() -> Identity:
    # The blocklist and user loaders already checked revocation and deactivation
    # against the auth cache; the identity is built from the claims and that cache.
    verify_jwt_in_request()
    return identity_for_claims(get_jwt(), get_current_user())


def authenticated(
    *, allow_api_key: bool = False, roles: Iterable[str] | None = None
) -> Callable[[F], F]:
    """Require a user JWT (or, if allowed, an API key); optionally restrict roles."""
    allowed = set(roles) if roles is not None else None

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(API_KEY_HEADER)
            if key and allow_api_key:
                identity = identity_from_api_key(key)
            elif key:
                raise Unauthorized(
                    "this endpoint needs a user token, not an API key",
                    code="api_key_not_allowed",
                )
            else:
                identity = _identity_from_jwt()
            if allowed is not None and identity.role not in allowed:
                raise Forbidden("your role may not do this")
            g.identity = identity
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def current_identity() -> Identity:
    """The identity resolved by ``authenticated`` for this request."""
    return cast(Identity, g.identity)
