"""The user, tenant and API-key rows authentication reads, cached in this process.

- API keys: by the SHA-256 of the presented key (never the key itself) -> the
  key's id, tenant and name. Only verified, unrevoked keys are cached; a new key
  is simply not cached yet, so creating one invalidates nothing.
- users and tenants: by id -> what a connect or a REST request checks (name,
  deactivated?, an MSP's client tenants).

Every entry lives at most ``ttl`` seconds (``AUTH_CACHE_TTL``), for rows changed
behind the server's back. An untrusted cache (Redis unreachable in a cluster) serves
nothing and stores nothing: every lookup goes to the database. When to clear or
distrust it is decided by the cluster protocol (``auth_cache_protocol.py``).
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiKey, Tenant, User

DEFAULT_TTL = 60.0
# Most cached API keys; past it the key cache starts afresh (keys are few).
MAX_API_KEYS = 10_000


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


class AuthRowCache:
    """Users, tenants and API keys for one process, with a TTL and a trust flag."""

    def __init__(self, ttl: float, trusted: bool) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._users: dict[int, tuple[float, UserState]] = {}
        self._tenants: dict[int, tuple[float, TenantState]] = {}
        self._api_keys: dict[str, tuple[float, ApiKeyState]] = {}  # by digest
        # Bumped on every clear: a row read before a clear is not stored after it
        # (a revocation committed while a request was reading the key).
        self._generation = 0
        self._trusted = trusted

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

    def _drop_rows(self) -> None:
        """Forget every cached row; the caller holds ``_lock``."""
        self._users.clear()
        self._tenants.clear()
        self._api_keys.clear()
        self._generation += 1

    def _distrust(self) -> None:
        """Serve from the database until the cache is trusted again."""
        with self._lock:
            self._trusted = False
            self._drop_rows()

    def _clear(self) -> None:
        """Forget every cached row (they changed)."""
        with self._lock:
            self._drop_rows()
