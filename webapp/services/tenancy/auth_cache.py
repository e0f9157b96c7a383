"""What authentication needs from the database, cached in process.

A connect (or a REST request) needs the caller's user (name, deactivated?) and
tenant (kind, an MSP's client tenants) and whether the token was revoked; a
publish with an API key needs the key's row. Reading them per request was most of
its cost, so they are cached here with explicit invalidation:

- API keys: by the SHA-256 of the presented key (never the key itself) -> the
  key's id, tenant and name. Only verified, unrevoked keys are cached; a new key
  is simply not cached yet, so creating one invalidates nothing.
- users, tenants and API keys: any committed change to a ``Tenant`` row, or to an
  existing ``User`` or ``ApiKey`` row (deactivation, a revoked key, a new client
  tenant, ...) clears the cache. In a cluster the
  change bumps a version counter in Redis (``{prefix}:auth-version``); every
  process reads it in the same round-trip as the revocation check and drops its
  cache when it moved, so the next connect on any process sees the change.
- revoked tokens: a set of ``jti`` in memory, seeded from the ``revoked_tokens``
  table (the durable record); in a cluster also one key per token in Redis
  (``{prefix}:revoked:<jti>``, expiring with the token), checked on every connect.

While Redis is unreachable the cache is not trusted: every lookup goes to the
database, as before the cache existed. ``AUTH_CACHE_TTL`` (seconds, default 60)
bounds how long an entry lives anyway, for rows changed behind the server's back
(e.g. by hand in SQL).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.models import ApiKey, RevokedToken, Tenant, User
from webapp.models.time import utcnow
from webapp.services.cluster.message_queue import redis_client

logger = logging.getLogger(__name__)

EXTENSION_KEY = "switchboard.auth_cache"
DEFAULT_TTL = 60.0
# Most cached API keys; past it the key cache starts afresh (keys are few).
MAX_API_KEYS = 10_000
# After a failed attempt to copy revocations into Redis, wait this long to retry.
PUSH_RETRY_SECONDS = 1.0
# Session.info flag: this transaction changed a user or tenant row.
_CHANGED = "switchboard.auth_rows_changed"


@dataclass(frozen=True)
class UserState:
    """The parts of a user that authentication needs."""

    id: int
    tenant_id: int
    name: str
    role: str
    deactivated: bool


@dataclass(frozen=True)
class TenantState:
    """The parts of a tenant that authentication needs."""

    id: int
    kind: str
    child_ids: tuple[int, ...]

    @property
    def visible_ids(self) -> tuple[int, ...]:
        """The tenants its MSP staff and keys see: itself and its clients."""
        return (self.id, *self.child_ids) if self.kind == "msp" else (self.id,)


@dataclass(frozen=True)
class ApiKeyState:
    """A verified, unrevoked API key: what its identity needs."""

    id: int
    tenant_id: int
    name: str


class AuthCache:
    """Users, tenants and revoked tokens for one process (see the module doc)."""

    def __init__(
        self, client: redis.Redis | None, prefix: str, ttl: float = DEFAULT_TTL
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl
        self._lock = threading.Lock()
        self._users: dict[int, tuple[float, UserState]] = {}
        self._tenants: dict[int, tuple[float, TenantState]] = {}
        self._api_keys: dict[str, tuple[float, ApiKeyState]] = {}  # by digest
        # Bumped on every clear: a row read before a clear is not stored after it
        # (a revocation committed while a request was reading the key).
        self._generation = 0
        self._revoked: dict[str, float] = {}  # jti -> expiry (epoch seconds)
        self._version: Any = None
        self._trusted = client is None  # clustered: only once Redis answered
        self._loaded = False  # the revoked_tokens table was read
        self._pushed = False  # Redis holds this process's revocations
        self._next_push = 0.0
        self._owe_bump = False  # an invalidation Redis has not heard of yet

    # ------------------------------------------------------------ key names
    @property
    def version_key(self) -> str:
        """Redis key of the cluster-wide invalidation counter."""
        return f"{self.prefix}:auth-version"

    def revoked_key(self, jti: str) -> str:
        """Redis key marking one revoked token."""
        return f"{self.prefix}:revoked:{jti}"

    # ------------------------------------------------------------ revocation
    def check_revoked(self, jti: str) -> bool:
        """True if ``jti`` was revoked; also syncs the cache with the cluster.

        One Redis round-trip in a cluster (version + this token's key), none for
        one process. Falls back to the database while Redis is unreachable.
        """
        self._seed()
        expires = self._revoked.get(jti)
        if expires is not None and expires > time.time():
            return True
        if self.client is None:
            return False
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self.version_key)
            pipe.exists(self.revoked_key(jti))
            version, revoked = pipe.execute()
        except redis.RedisError as exc:
            logger.warning("auth cache: Redis unreachable (%s); using the DB", exc)
            self._distrust()
            return db.session.get(RevokedToken, jti) is not None
        if version is None:
            # Seeding sets the version, so Redis lost its data (restart, flush):
            # copy the revocations back and answer from the durable record.
            logger.warning("auth cache: Redis lost its state; reseeding")
            self._loaded = self._pushed = False  # others' revocations too
            self._next_push = 0.0
            self._seed()
            self._adopt_version(None)
            return db.session.get(RevokedToken, jti) is not None
        self._adopt_version(version)
        return bool(revoked)

    def add_revoked(self, jti: str, expires_at_epoch: int) -> None:
        """Remember a revocation here and, in a cluster, for every process."""
        self._seed()
        self._revoked[jti] = float(expires_at_epoch)
        self._prune_revoked()
        if self.client is not None:
            ttl = max(1, int(expires_at_epoch - time.time()))
            try:
                self.client.set(self.revoked_key(jti), "1", ex=ttl)
            except redis.RedisError as exc:
                # The database row stays the record; the next seed copies it.
                logger.warning("auth cache: revocation not shared (%s)", exc)
                self._pushed = False

    def _seed(self) -> None:
        """Load the durable revocations once; copy them to Redis until it has them."""
        if not self._loaded:
            now = utcnow()
            rows = db.session.execute(
                select(RevokedToken.jti, RevokedToken.expires_at).where(
                    RevokedToken.expires_at > now
                )
            ).all()
            for jti, expires_at in rows:
                if expires_at.tzinfo is None:  # SQLite drops the zone
                    expires_at = expires_at.replace(tzinfo=UTC)
                self._revoked[jti] = expires_at.timestamp()
            self._loaded = True
        if self.client is None or self._pushed:
            return
        if time.monotonic() < self._next_push:
            return  # Redis failed a moment ago: do not retry on every connect
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(self.version_key, "0", nx=True)  # "Redis has our state"
            for jti, expires in list(self._revoked.items()):
                ttl = max(1, int(expires - time.time()))
                pipe.set(self.revoked_key(jti), "1", ex=ttl, nx=True)
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("auth cache: cannot seed Redis (%s)", exc)
            self._next_push = time.monotonic() + PUSH_RETRY_SECONDS
            return
        self._pushed = True

    def _prune_revoked(self) -> None:
        now = time.time()
        if len(self._revoked) > 1000:
            for jti in [j for j, exp in self._revoked.items() if exp <= now]:
                self._revoked.pop(jti, None)

    # -------------------------------------------------------- users, tenants
    def user(self, user_id: int) -> UserState | None:
        """A user's state, from the cache or the database (``None``: no such user)."""
        now = time.monotonic()
        hit = self._users.get(user_id) if self._trusted else None
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        row = db.session.get(User, user_id)
        if row is None:
            return None
        state = UserState(row.id, row.tenant_id, row.name, row.role, not row.is_active)
        self._store(self._users, user_id, (now + self.ttl, state), generation)
        return state

    def tenant(self, tenant_id: int) -> TenantState | None:
        """A tenant's state, from the cache or the database (``None``: none)."""
        now = time.monotonic()
        hit = self._tenants.get(tenant_id) if self._trusted else None
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        row = db.session.get(Tenant, tenant_id)
        if row is None:
            return None
        children: tuple[int, ...] = ()
        if row.kind == "msp":
            children = tuple(
                db.session.scalars(
                    select(Tenant.id)
                    .where(Tenant.parent_id == tenant_id)
                    .order_by(Tenant.id)
                )
            )
        state = TenantState(row.id, row.kind, children)
        self._store(self._tenants, tenant_id, (now + self.ttl, state), generation)
        return state

    def api_key(self, prefix: str, digest: str) -> ApiKeyState | None:
        """The key whose SHA-256 is ``digest``, if valid (cache, else database).

        ``None`` for an unknown, revoked or mismatching key; those are not cached
        (a wrong key costs a query, as before). Call ``sync`` first in a cluster.
        """
        now = time.monotonic()
        hit = self._api_keys.get(digest) if self._trusted else None
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if (
            row is None
            or row.revoked_at is not None
            or not hmac.compare_digest(digest, row.hash)
        ):
            return None
        state = ApiKeyState(row.id, row.tenant_id, row.name)
        if len(self._api_keys) >= MAX_API_KEYS:
            self._api_keys.clear()
        self._store(self._api_keys, digest, (now + self.ttl, state), generation)
        return state

    def _store(
        self, store: dict[Any, Any], key: Any, entry: Any, generation: int
    ) -> None:
        """Cache ``entry`` unless the cache was cleared since its row was read."""
        with self._lock:
            if self._trusted and generation == self._generation:
                store[key] = entry

    def sync(self) -> None:
        """Drop the cache if another process changed users or tenants (cluster)."""
        if self.client is None:
            return
        try:
            version = self.client.get(self.version_key)
        except redis.RedisError as exc:
            logger.warning("auth cache: Redis unreachable (%s); using the DB", exc)
            self._distrust()
            return
        self._adopt_version(version)

    def heal(self) -> None:
        """Share what an outage kept from Redis; re-read revocations if it ended.

        Called periodically by every serving process (the connection audit), so
        a revocation or invalidation made while Redis failed reaches the other
        processes even when this one gets no further traffic.
        """
        if self.client is None:
            return
        self._seed()
        self.sync()

    def invalidate(self) -> None:
        """Users or tenants changed: forget them here and on every process."""
        self._clear()
        if self.client is None:
            return
        try:
            self.client.incr(self.version_key)
        except redis.RedisError as exc:
            # Shared on the next round-trip that succeeds (see _adopt_version).
            logger.warning("auth cache: invalidation not shared yet (%s)", exc)
            self._owe_bump = True

    def _adopt_version(self, version: Any) -> None:
        if self._owe_bump and self.client is not None:
            # An invalidation made while Redis was unreachable: share it now.
            self._owe_bump = False
            try:
                self.client.incr(self.version_key)
            except redis.RedisError:
                self._owe_bump = True
        with self._lock:
            if not self._trusted:
                # Back from an outage: revocations other processes recorded
                # meanwhile may be only in the database; read it again and share.
                self._loaded = self._pushed = False
                self._next_push = 0.0
            if version != self._version or not self._trusted:
                self._users.clear()
                self._tenants.clear()
                self._api_keys.clear()
                self._generation += 1
                self._version = version
                self._trusted = True

    def _distrust(self) -> None:
        with self._lock:
            self._trusted = False
            self._users.clear()
            self._tenants.clear()
            self._api_keys.clear()
            self._generation += 1

    def _clear(self) -> None:
        with self._lock:
            self._users.clear()
            self._tenants.clear()
            self._api_keys.clear()
            self._generation += 1


def init_auth_cache(app: Flask) -> AuthCache:
    """Create the app's cache: Redis-backed when ``MESSAGE_QUEUE_URL`` is set."""
    url = app.config.get("MESSAGE_QUEUE_URL")
    cache = AuthCache(
        redis_client(url) if url else None,
        prefix=app.config.get("MESSAGE_QUEUE_CHANNEL", "switchboard"),
        ttl=float(app.config.get("AUTH_CACHE_TTL", DEFAULT_TTL)),
    )
    app.extensions[EXTENSION_KEY] = cache
    _listen_for_changes()
    return cache


def auth_cache() -> AuthCache:
    """The current app's cache (made on first use)."""
    cache: AuthCache | None = current_app.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = init_auth_cache(current_app._get_current_object())  # type: ignore[attr-defined]
    return cache


# ---------------------------------------------------------------- invalidation
def _after_flush(session: Session, _context: Any) -> None:
    """Note a transaction that changes what the cache holds."""
    # A new user or key changes no cached entry (it is simply not cached yet).
    changed = any(
        isinstance(obj, Tenant)
        or (isinstance(obj, User | ApiKey) and obj not in session.new)
        for obj in (*session.new, *session.dirty, *session.deleted)
    )
    if changed:
        session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False) and has_app_context():
        auth_cache().invalidate()


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def _listen_for_changes() -> None:
    """Invalidate on every committed user/tenant change, whoever makes it."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
