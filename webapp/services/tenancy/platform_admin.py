"""The first admin: a platform tenant and an ``admin`` user, made from the CLI.

Production has no demo seed and REST needs an admin to make users, so an operator
creates the first one with ``flask create-admin``; this module does the work.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from webapp.errors import Conflict, ValidationFailed
from webapp.extensions import db
from webapp.models import Tenant, User
from webapp.services.tenancy.users import add_user

PLATFORM_TENANT = "Platform"
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
PASSWORD_RULE = (
    f"a password needs at least {MIN_PASSWORD_CHARS} characters "
    "and must not be the email or the name"
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def check_admin_password(password: str, email: str, name: str) -> None:
    """Refuse an empty, short or guessable password (400)."""
    if not password.strip():
        raise ValidationFailed("the password is empty; " + PASSWORD_RULE)
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed("the password is too short; " + PASSWORD_RULE)
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationFailed(
            f"the password is longer than {MAX_PASSWORD_CHARS} characters"
        )
    if password.strip().lower() in (email.lower(), name.strip().lower()):
        raise ValidationFailed("the password is guessable; " + PASSWORD_RULE)


def platform_tenant(name: str = PLATFORM_TENANT) -> Tenant:
    """The operators' tenant (an MSP with no parent), created when missing."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        tenant = Tenant(name=name, kind="msp", parent_id=None)
        db.session.add(tenant)
        db.session.flush()
    elif tenant.kind != "msp" or tenant.parent_id is not None:
        raise Conflict(
            f"tenant {name!r} exists and is not a top-level MSP; "
            "choose another --tenant name"
        )
    return tenant


def create_admin(
    email: str, name: str, password: str, tenant_name: str = PLATFORM_TENANT
) -> User:
    """Create an ``admin`` user in the platform tenant; the email must be new."""
    email, name = email.strip(), name.strip()
    if not EMAIL.match(email) or len(email) > 254:
        raise ValidationFailed(f"{email!r} is not an email address")
    if not name or len(name) > 200:
        raise ValidationFailed("the name must have 1 to 200 characters")
    check_admin_password(password, email, name)
    tenant = platform_tenant(tenant_name)
    taken = f"a user with email {email} already exists"
    user = add_user(tenant.id, email, name, "admin", password, taken)
    db.session.commit()
    return user
