"""API key format, generation and verification.

Keys are ``sb_<prefix>_<secret>`` with 256 bits of secret, so a fast SHA-256 is the
right hash (a slow password hash would only cost every publish a few ms).
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "sb"


def generate_api_key() -> tuple[str, str, str]:
    """Return ``(full_key, prefix, hash)``; only the prefix and hash are stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = f"{KEY_PREFIX}_{prefix}_{secret}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    """SHA-256 hex digest of the full key."""
    return hashlib.sha256(key.encode()).hexdigest()


def split_prefix(key: str) -> str | None:
    """Extract the lookup prefix of a key, or ``None`` if it is malformed."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]
