"""What authentication needs from the database, cached in process.

A connect (or a REST request) needs the caller's user (name, deactivated?) and
tenant (kind, an MSP's client tenants) and whether the token was revoked; a
publish with an API key needs the key's row. Reading them per request was most of
its cost, so they are cached with explicit invalidation, in three parts:

- ``auth_rows.py``: the per-process caches of users, tenants and API keys.
- ``auth_cache_protocol.py``: ``AuthCache``, those rows plus the revoked tokens,
  kept in step across processes over Redis (a version counter, one key per
  revoked token).
- this module: the app's ``AuthCache`` and the commit hooks that invalidate it.
  Any committed change to a ``Tenant`` row, or to an existing ``User`` or
  ``ApiKey`` row (deactivation, a revoked key, a new client tenant, ...) clears
  it, on every process of a cluster.

While Redis is unreachable the cache is not trusted: every lookup goes to the
database, as before the cache existed. ``AUTH_CACHE_TTL`` (seconds, default 60)
bounds how long an entry lives anyway, for rows changed behind the server's back
(e.g. by hand in SQL).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.models import ApiKey, Tenant, User
from webapp.services.cluster.message_queue import redis_client
from webapp.services.tenancy.auth_cache_protocol import AuthCache
from webapp.services.tenancy.auth_rows import DEFAULT_TTL

EXTENSION_KEY = "switchboard.auth_cache"
# Session.info flag: this transaction changed a user or tenant row.
_CHANGED = "switchboard.auth_rows_changed"


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
