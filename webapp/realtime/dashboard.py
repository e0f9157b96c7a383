"""The /dashboard namespace."""

from __future__ import annotations

from webapp.realtime.base import BaseNamespace


class DashboardNamespace(BaseNamespace):
    """Socket.IO handlers for /dashboard."""
