"""What a live connection record is, and what a connection registry does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ConnectionInfo:
    """One namespace connection."""

    sid: str
    namespace: str
    tenant_id: int
    user_id: int | None
    jti: str | None


class ConnectionRegistry(Protocol):
    """Where live connections are recorded."""

    def add(self, info: ConnectionInfo) -> None:
        """Record a new connection."""

    def remove(self, sid: str, namespace: str) -> ConnectionInfo | None:
        """Forget a connection; returns what was recorded."""

    def all(self) -> list[ConnectionInfo]:
        """Every live connection."""

    def count(self) -> int:
        """Number of live connections."""

    def count_for_user(self, user_id: int, namespace: str) -> int:
        """Live connections of one user on one namespace."""

    def for_token(self, jti: str) -> list[ConnectionInfo]:
        """Connections opened with one token."""

    def for_user(self, user_id: int) -> list[ConnectionInfo]:
        """Connections of one user, on every namespace."""

    def local(self) -> list[ConnectionInfo]:
        """This process's own live connections."""
