"""The auth cache across processes: revoked tokens and invalidation over Redis.

- revoked tokens: a set of ``jti`` in memory, seeded from the ``revoked_tokens``
  table (the durable record); in a cluster also one key per token in Redis
  (``{prefix}:revoked:<jti>``, expiring with the token), checked on every connect.
- invalidation: any committed change to what the row cache holds (``auth_rows.py``)
  clears it; in a cluster the change also bumps a version counter in Redis
  (``{prefix}:auth-version``). Every process reads it in the same round-trip as the
  revocation check and drops its rows when it moved, so the next connect on any
  process sees the change.

While Redis is unreachable the rows are not trusted (every lookup goes to the
database, as before the cache existed); what an outage kept from Redis (a
revocation, an invalidation) is shared once it answers again.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC
from typing import Any

import redis
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import RevokedToken
from webapp.models.time import utcnow
from webapp.services.tenancy.auth_rows import DEFAULT_TTL, AuthRowCache

logger = logging.getLogger(__name__)

# After a failed attempt to copy revocations into Redis, wait this long to retry.
PUSH_RETRY_SECONDS = 1.0


class AuthCache(AuthRowCache):
    """Users, tenants and revoked tokens for one process (see the module doc)."""

    def __init__(
        self, client: redis.Redis | None, prefix: str, ttl: float = DEFAULT_TTL
    ) -> None:
        # Clustered, the rows are trusted only once Redis answered.
        super().__init__(ttl, trusted=client is None)
        self.client = client
        self.prefix = prefix
        self._revoked: dict[str, float] = {}  # jti -> expiry (epoch seconds)
        self._version: Any = None
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

    # ---------------------------------------------------------- invalidation
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
                self._drop_rows()
                self._version = version
                self._trusted = True
