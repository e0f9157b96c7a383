"""The connect path's in-process caches, unit-tested on an in-process app."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask
from flask_jwt_extended import create_access_token

from tests.support.sql import recorded_statements
from webapp.auth.tokens import TokenRejected, identity_from_socket_token
from webapp.extensions import db
from webapp.models import Tenant, User
from webapp.models.time import utcnow
from webapp.services.cluster.connections import ConnectionInfo, MemoryConnectionRegistry
from webapp.services.tenancy import revocation


def _user(kind: str = "msp", role: str = "msp") -> User:
    tenant = Tenant(name=f"t-{time.monotonic_ns()}", kind=kind)
    db.session.add(tenant)
    db.session.flush()
    user = User(
        tenant_id=tenant.id,
        email=f"u{time.monotonic_ns()}@t",
        name="cached",
        role=role,
        password_hash="x",
    )
    db.session.add(user)
    db.session.commit()
    return user


def _token(user: User, expires: timedelta = timedelta(minutes=5)) -> str:
    return create_access_token(
        identity=str(user.id),
        additional_claims={"tenant_id": user.tenant_id, "role": user.role},
        expires_delta=expires,
    )


def _refusal(token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        identity_from_socket_token(token)
    return caught.value.code


def test_a_verified_token_is_still_refused_once_it_expires(app: Flask) -> None:
    user = _user()
    token = _token(user, timedelta(seconds=1))
    assert identity_from_socket_token(token).user_id == user.id  # now cached
    time.sleep(1.2)
    assert _refusal(token) == "token_expired"


def test_revocation_and_deactivation_reach_a_warm_cache(app: Flask) -> None:
    user = _user()
    token, other = _token(user), _token(user)
    assert identity_from_socket_token(token).name == "cached"
    assert identity_from_socket_token(other).name == "cached"
    revocation.revoke(identity_from_socket_token(token).jti or "", 2**31)
    assert _refusal(token) == "token_revoked"
    user.deactivated_at = utcnow()
    db.session.commit()  # the commit alone invalidates the cache
    assert _refusal(other) == "user_deactivated"


def test_a_new_client_tenant_reaches_a_cached_msp_identity(app: Flask) -> None:
    user = _user()
    token = _token(user)
    assert identity_from_socket_token(token).visible_tenant_ids == (user.tenant_id,)
    client = Tenant(
        name=f"c-{time.monotonic_ns()}", kind="client", parent_id=user.tenant_id
    )
    db.session.add(client)
    db.session.commit()
    visible = identity_from_socket_token(token).visible_tenant_ids
    assert visible == (user.tenant_id, client.id)


def test_per_user_counts_follow_adds_and_removes() -> None:
    registry = MemoryConnectionRegistry()
    for n in range(3):
        registry.add(ConnectionInfo(f"s{n}", "/events", 1, 7, "jti-a"))
    registry.add(ConnectionInfo("s9", "/system", 1, 7, "jti-b"))
    registry.add(ConnectionInfo("s0", "/events", 1, 7, "jti-a"))  # same key again
    assert registry.count_for_user(7, "/events") == 3
    assert registry.count_for_user(7, "/system") == 1
    assert {c.sid for c in registry.for_token("jti-a")} == {"s0", "s1", "s2"}
    assert len(registry.for_user(7)) == 4
    assert registry.remove("s1", "/events") is not None
    assert registry.remove("s1", "/events") is None
    assert registry.count_for_user(7, "/events") == 2
    for sid, ns in (("s0", "/events"), ("s2", "/events"), ("s9", "/system")):
        registry.remove(sid, ns)
    assert registry.count_for_user(7, "/events") == 0
    assert registry.for_user(7) == [] and registry.for_token("jti-a") == []
    assert registry.count() == 0


def test_a_warm_connect_and_its_refusals_query_no_database(app: Flask) -> None:
    user = _user()
    user_id, token, revoked = user.id, _token(user), _token(user)
    identity_from_socket_token(token)  # the first connect fills the cache
    revocation.revoke(identity_from_socket_token(revoked).jti or "", 2**31)
    with recorded_statements() as seen:
        for _ in range(3):
            assert identity_from_socket_token(token).user_id == user_id
        assert _refusal(revoked) == "token_revoked"
        assert _refusal("not.a.jwt") == "invalid_token"
    assert seen == []
