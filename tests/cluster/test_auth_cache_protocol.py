"""The auth cache's cluster protocol on a real Redis: two caches as two processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from webapp.extensions import db
from webapp.models import Tenant, User
from webapp.models.time import utcnow
from webapp.services.cluster.message_queue import redis_client
from webapp.services.tenancy import revocation
from webapp.services.tenancy.auth_cache import EXTENSION_KEY
from webapp.services.tenancy.auth_cache_protocol import AuthCache

pytestmark = [pytest.mark.redis]


@pytest.fixture
def caches(app: Flask, redis_url: str) -> Iterator[tuple[AuthCache, AuthCache]]:
    """Two caches on one Redis channel, as two processes would have."""
    prefix = f"sb-test-{uuid.uuid4().hex[:10]}"
    made = (
        AuthCache(redis_client(redis_url), prefix),
        AuthCache(redis_client(redis_url), prefix),
    )
    yield made
    client = made[0].client
    assert client is not None
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def _as(app: Flask, cache: AuthCache) -> AuthCache:
    """Make ``cache`` the app's (this 'process' is now the one acting)."""
    app.extensions[EXTENSION_KEY] = cache
    return cache


def _user() -> User:
    tenant = Tenant(name=f"t-{uuid.uuid4().hex[:8]}", kind="client")
    db.session.add(tenant)
    db.session.flush()
    user = User(
        tenant_id=tenant.id, email=f"{uuid.uuid4().hex}@t", name="n", role="client"
    )
    user.password_hash = "x"
    db.session.add(user)
    db.session.commit()
    return user


def test_a_revocation_on_one_process_is_seen_by_the_other(
    app: Flask, caches: tuple[AuthCache, AuthCache]
) -> None:
    one, two = caches
    assert not _as(app, two).check_revoked("jti-1")
    _as(app, one)
    revocation.revoke("jti-1", int(utcnow().timestamp()) + 600)
    assert _as(app, two).check_revoked("jti-1")


def test_a_user_change_on_one_process_clears_the_other(
    app: Flask, caches: tuple[AuthCache, AuthCache]
) -> None:
    one, two = caches
    user = _user()
    user_id = user.id
    _as(app, two).check_revoked("any")
    state = two.user(user_id)
    assert state is not None and not state.deactivated
    _as(app, one)
    user.deactivated_at = utcnow()
    db.session.commit()  # one's commit hook bumps the cluster version
    _as(app, two).check_revoked("any")  # the next connect on two syncs
    state = two.user(user_id)
    assert state is not None and state.deactivated


def test_revocations_survive_redis_losing_its_data(
    app: Flask, caches: tuple[AuthCache, AuthCache]
) -> None:
    one, two = caches
    _as(app, two).check_revoked("warm")  # two has seeded already
    _as(app, one)
    revocation.revoke("jti-2", int(utcnow().timestamp()) + 600)
    client = one.client
    assert client is not None
    client.delete(*list(client.scan_iter(f"{one.prefix}:*")))  # a flushed Redis
    assert _as(app, two).check_revoked("jti-2")  # from the durable record
    assert client.exists(one.revoked_key("jti-2"))  # and copied back for all


def test_an_invalidation_made_while_redis_was_unreachable_is_shared_later(
    app: Flask, caches: tuple[AuthCache, AuthCache]
) -> None:
    one, two = caches
    user = _user()
    user_id = user.id
    _as(app, two).check_revoked("any")
    assert not (two.user(user_id) or pytest.fail("no user")).deactivated
    reachable, one.client = one.client, redis_client("redis://127.0.0.1:1", 0.2)
    _as(app, one)
    user.deactivated_at = utcnow()
    db.session.commit()  # the bump fails: nothing listens on port 1
    one.client = reachable
    one.check_revoked("any")  # Redis answers again: the bump goes out
    _as(app, two).check_revoked("any")
    assert (two.user(user_id) or pytest.fail("no user")).deactivated


def test_a_revocation_made_while_redis_failed_reaches_the_others(
    app: Flask, caches: tuple[AuthCache, AuthCache]
) -> None:
    one, two = caches
    for _ in range(2):  # trusted, then the durable record read once trusted
        assert not _as(app, one).check_revoked("warm")
        assert not _as(app, two).check_revoked("warm")
    healthy = one.client
    one.client = redis_client("redis://127.0.0.1:1/0")  # this process loses Redis
    _as(app, one)
    revocation.revoke("jti-outage", int(utcnow().timestamp()) + 600)
    assert not _as(app, two).check_revoked("jti-outage")  # not shared yet
    one.client = healthy  # Redis answers again; no request reaches process one
    _as(app, one).heal()  # its periodic connection audit
    assert _as(app, two).check_revoked("jti-outage")
