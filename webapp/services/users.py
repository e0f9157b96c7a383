"""Users' lifecycle after creation: deactivation."""

from __future__ import annotations

import logging

from webapp.auth.identity import Identity
from webapp.errors import Conflict, Forbidden, NotFound
from webapp.extensions import db
from webapp.input_guard import require_id_in_range
from webapp.models import User
from webapp.models.time import utcnow
from webapp.services import connections, publisher
from webapp.services.auth_cache import auth_cache
from webapp.services.tenancy import get_visible_tenant

logger = logging.getLogger(__name__)


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
    closed = 0
    for info in connections.registry().for_user(user.id):
        publisher.disconnect_connection(info.sid, info.namespace)
        closed += 1
    logger.info("user %s deactivated; %d sockets closed", user.id, closed)
    return closed
