"""Signing: ``Switchboard-Signature: t=<unix>,v1=<hex HMAC-SHA256>``, and checking."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "Switchboard-Signature"
ID_HEADER = "Switchboard-Webhook-Id"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret (shown to the tenant once)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(
    secrets: str | Sequence[str], body: bytes, now: float | None = None
) -> str:
    """The header value for ``body`` signed now: one ``v1=`` per secret."""
    timestamp = int(now if now is not None else time.time())
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    signed = ",".join(f"v1={signature(key, timestamp, body)}" for key in keys)
    return f"t={timestamp},{signed}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    tolerance: float = 300,
    now: float | None = None,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds.

    The receiver's side, as docs/webhooks.md shows it; used by the tests.
    """
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    current = now if now is not None else time.time()
    if abs(current - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))
