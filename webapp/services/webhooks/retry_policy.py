"""When to try a failed delivery again: exponential backoff with jitter."""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime

from webapp.models.time import utcnow

# Retried statuses besides 5xx; every other 4xx (and 3xx: redirects are not
# followed) is final.
RETRIED_STATUSES = frozenset({408, 429})
LONGEST_RETRY_AFTER = 3600.0


def is_retryable(status: int | None) -> bool:
    """Network errors and timeouts (no status), 5xx, 408 and 429."""
    return status is None or status >= 500 or status in RETRIED_STATUSES


def backoff(attempts: int, base: float) -> float:
    """Seconds before the next attempt, after ``attempts`` failed ones.

    ``base * 2**(attempts-1)``, ±20 %: with the defaults (30 s, 8 attempts) the
    seven waits add up to about an hour, and each wait is longer than the last.
    """
    return base * 2 ** max(0, attempts - 1) * random.uniform(0.8, 1.2)


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - utcnow()).total_seconds()
    return min(max(seconds, 0.0), LONGEST_RETRY_AFTER)
