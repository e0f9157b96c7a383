"""The /engagement namespace."""

from __future__ import annotations

from webapp.realtime.base import BaseNamespace


class EngagementNamespace(BaseNamespace):
    """Socket.IO handlers for /engagement."""
