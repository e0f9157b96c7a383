"""What a publisher is told when the event log write fails: 503s, not tracebacks."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from webapp.errors import DependencyDown


def failure_answer(exc: BaseException) -> BaseException:
    """What a caller is told of a failure: a database outage is a 503."""
    if isinstance(exc, OperationalError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        error = DependencyDown("the database is unavailable")
        error.__cause__ = exc
        return error
    return exc


def unknown_outcome(exc: BaseException) -> DependencyDown:
    """The 503 for a commit the database never confirmed (persisted: unknown)."""
    error = DependencyDown(
        "the database did not confirm the commit: the events may or may not be"
        " persisted; retry with an idempotency key to publish them once",
        details={"persisted": "unknown"},
    )
    error.__cause__ = exc
    return error
