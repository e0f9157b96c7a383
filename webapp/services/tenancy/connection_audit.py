"""Close this process's sockets whose user was deactivated or whose token was revoked.

Deactivation and logout close sockets at once, cluster-wide, through Redis. When
that cannot reach a process (Redis down at that moment, a change made straight in
the database), this audit still closes them within CONNECTION_AUDIT_INTERVAL: it
reads the database, the durable record, never the cache, with one query per 500
distinct users or tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from flask import Flask
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import RevokedToken, User
from webapp.services.cluster import connections
from webapp.services.cluster.connections import ConnectionInfo
from webapp.services.delivery import to_connection
from webapp.services.periodic import run_periodically
from webapp.services.tenancy.auth_cache import auth_cache

logger = logging.getLogger(__name__)

# Ids per IN (...) query: well under every database's parameter limit.
CHUNK = 500


def _chunks(values: Iterable[str | int]) -> Iterator[list[str | int]]:
    ordered = sorted(values, key=str)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def unwelcome(conns: list[ConnectionInfo]) -> list[ConnectionInfo]:
    """The connections whose user is deactivated (or gone) or token revoked."""
    user_ids = {c.user_id for c in conns if c.user_id is not None}
    jtis = {c.jti for c in conns if c.jti}
    active: set[int] = set()
    for chunk in _chunks(user_ids):
        active.update(
            db.session.scalars(
                select(User.id).where(User.id.in_(chunk), User.deactivated_at.is_(None))
            )
        )
    revoked: set[str] = set()
    for chunk in _chunks(jtis):
        revoked.update(
            db.session.scalars(
                select(RevokedToken.jti).where(RevokedToken.jti.in_(chunk))
            )
        )
    db.session.commit()  # end the read transaction; hold no pooled connection
    return [
        c
        for c in conns
        if (c.user_id is not None and c.user_id not in active) or c.jti in revoked
    ]


def audit_local_connections() -> int:
    """Close this process's unwelcome connections; returns how many."""
    auth_cache().heal()  # share revocations an outage kept from the cluster
    closing = unwelcome(connections.registry().local())
    for info in closing:
        logger.warning(
            "closing %s on %s: user deactivated or token revoked",
            info.sid,
            info.namespace,
        )
        to_connection.disconnect_connection(info.sid, info.namespace)
    return len(closing)


def start_connection_audit(app: Flask) -> None:
    """Run the audit every CONNECTION_AUDIT_INTERVAL seconds in a serving process."""
    run_periodically(
        app,
        app.config["CONNECTION_AUDIT_INTERVAL"],
        audit_local_connections,
        "connection audit",
    )
