"""The per-user connection cap, enforced when a connection is accepted.

At most ``MAX_CONNECTIONS_PER_USER`` connections per user per namespace, counted
across the cluster with a message queue (``services/cluster/connections``). The
next one is refused with ``connect_error`` ``too_many_connections``. API keys have
no user and no cap.
"""

from __future__ import annotations

from flask import current_app

from webapp.auth.identity import Identity
from webapp.errors import DomainError
from webapp.services.cluster import connections


def enforce_per_user_cap(identity: Identity, namespace: str) -> None:
    """Raise ``too_many_connections`` when the user already holds the maximum."""
    if identity.user_id is None:
        return
    cap = current_app.config["MAX_CONNECTIONS_PER_USER"]
    current = connections.registry().count_for_user(identity.user_id, namespace)
    if current >= cap:
        raise DomainError(
            f"at most {cap} connections per user", code="too_many_connections"
        )
