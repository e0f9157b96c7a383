"""Users' lifecycle: adding one (the only code that does), deactivation."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select

from webapp.auth.identity import Identity
from webapp.auth.passwords import hash_password
from webapp.errors import Conflict, Forbidden, NotFound
from webapp.extensions import db, get_socketio
from webapp.input_guard import require_id_in_range
from webapp.models import User
from webapp.models.time import utcnow
from webapp.services.cluster import connections
from webapp.services.delivery import to_connection
from webapp.services.tenancy.auth_cache import auth_cache
from webapp.services.tenancy.visibility import get_visible_tenant

logger = logging.getLogger(__name__)

# Seconds after a deactivation before its sockets are swept a second time.
SECOND_SWEEP_DELAY = 2.0


def add_user(
    tenant_id: int,
    email: str,
    name: str,
    role: str,
    password: str,
    taken: str = "a user with this email already exists",
) -> User:
    """Add a user with a hashed password (not committed); 409 ``email_taken``.

    Emails are unique case-insensitively. The REST API, ``flask create-admin``
    and ``flask seed-demo`` all create users here; the callers check roles.
    """
    existing = db.session.scalar(
        select(User.id).where(func.lower(User.email) == email.lower())
    )
    if existing is not None:
        raise Conflict(taken, code="email_taken")
    user = User(
        tenant_id=tenant_id,
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    return user


def deactivate_user(identity: Identity, tenant_id: int, user_id: int) -> int:
    """Deactivate a user of a tenant the caller manages; returns sockets closed.

    From the commit on, the user's tokens are refused on REST and at connect on
    every process (the auth cache is invalidated cluster-wide) and login fails;
    their live sockets are then closed wherever they are. Idempotent.
    """
    tenant = get_visible_tenant(identity, tenant_id)  # 404 also out of range
    if identity.role not in ("admin", "msp"):
        raise Forbidden("your role may not manage users")
    user = db.session.get(User, require_id_in_range(user_id, "user"))
    if user is None or user.tenant_id != tenant.id:
        raise NotFound("user not found")
    if user.id == identity.user_id:
        raise Conflict("you cannot deactivate yourself", code="cannot_deactivate_self")
    if user.role == "admin" and not identity.is_admin:
        raise Forbidden("only an admin may deactivate an admin")
    if user.deactivated_at is None:
        user.deactivated_at = utcnow()
        db.session.commit()  # the commit hook invalidates the auth cache everywhere
    else:
        auth_cache().invalidate()  # make sure no process still holds it as active
    closed = close_user_sockets(user.id)
    logger.info("user %s deactivated; %d sockets closed", user.id, closed)
    # A connect that passed its checks on another process just before the
    # change was visible there may register after this sweep: sweep once more.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    sio = get_socketio()
    sio.start_background_task(_sweep_again, app, sio, user.id)
    return closed


def close_user_sockets(user_id: int) -> int:
    """Close every live socket of a user, on whichever process holds it."""
    closed = 0
    for info in connections.registry().for_user(user_id):
        to_connection.disconnect_connection(info.sid, info.namespace)
        closed += 1
    return closed


def _sweep_again(app: Flask, sio: Any, user_id: int) -> None:
    sio.sleep(SECOND_SWEEP_DELAY)
    with app.app_context():
        try:
            late = close_user_sockets(user_id)
        except Exception:  # a background task must not die noisily
            logger.exception("second sweep for user %s failed", user_id)
            return
    if late:
        logger.info("user %s: %d late sockets closed", user_id, late)
