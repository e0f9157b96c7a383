"""Password hashing with Argon2id (argon2-cffi), the OWASP-recommended default."""

from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# PASSWORD_HASH_PROFILE=fast is for test suites only (production refuses it): the
# default profile costs ~50-400 ms per hash by design, which dominates test time.
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if os.environ.get("PASSWORD_HASH_PROFILE") == "fast"
    else PasswordHasher()
)

# Verified against for unknown emails, so timing does not reveal which exist.
_DUMMY_HASH = _hasher.hash("switchboard-timing-equaliser")


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash (constant work for unknown users)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False
