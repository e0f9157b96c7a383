"""CPU per authenticated connect, in process: token -> identity plus the cap check.

Run: ``python -m bench.connect_cpu [DATABASE_URL] [REDIS_URL]`` (SQLite in memory by
default). 10,000 connections are registered first, as on a busy process, so a
per-user count that scans every connection shows up.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

os.environ.setdefault("PASSWORD_HASH_PROFILE", "fast")

from webapp import create_app  # noqa: E402
from webapp.auth.tokens import identity_from_socket_token, issue_access_token  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Tenant, User  # noqa: E402
from webapp.services.cluster.connections import ConnectionInfo  # noqa: E402
from webapp.services.cluster.state import connections  # noqa: E402
from webapp.services.tenancy.auth_cache import init_auth_cache  # noqa: E402

REGISTERED = 10_000
ROUNDS = 2_000


def main() -> None:
    """Print microseconds of CPU per identity + cap check."""
    app = create_app("testing")
    if len(sys.argv) > 1:
        app.config["SQLALCHEMY_DATABASE_URI"] = sys.argv[1]
    if len(sys.argv) > 2:
        app.config["MESSAGE_QUEUE_URL"] = sys.argv[2]
        app.config["MESSAGE_QUEUE_CHANNEL"] = f"bench-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        if len(sys.argv) > 2:
            connections.init_connections(app)
            init_auth_cache(app)
        db.create_all()
        suffix = uuid.uuid4().hex[:8]
        msp = Tenant(name=f"msp-{suffix}", kind="msp")
        db.session.add(msp)
        db.session.flush()
        for i in range(3):
            db.session.add(
                Tenant(name=f"c{i}-{suffix}", kind="client", parent_id=msp.id)
            )
        user = User(
            tenant_id=msp.id,
            email=f"u-{suffix}@bench",
            name="bench",
            role="msp",
            password_hash="x",
        )
        db.session.add(user)
        db.session.commit()
        token = issue_access_token(user)
        registry = connections.registry()
        for i in range(REGISTERED):
            registry.add(
                ConnectionInfo(f"sid{i}", "/events", msp.id, 10_000 + i % 2000, "j")
            )
        cap = app.config["MAX_CONNECTIONS_PER_USER"]

        def one() -> None:
            identity = identity_from_socket_token(token)
            assert registry.count_for_user(identity.user_id or 0, "/events") < cap

        for _ in range(200):  # warm up caches and pools
            one()
        fresh = iter([issue_access_token(user) for _ in range(ROUNDS)])
        for label, fn in (
            ("new token", lambda: identity_from_socket_token(next(fresh))),
            ("identity+cap", one),
            ("identity", lambda: identity_from_socket_token(token)),
            ("cap", lambda: registry.count_for_user(user.id, "/events")),
        ):
            start = time.process_time()
            for _ in range(ROUNDS):
                fn()
            spent = time.process_time() - start
            print(f"{label:14s} {spent / ROUNDS * 1e6:8.1f} us CPU per connect")


if __name__ == "__main__":
    main()
