"""The /system namespace."""

from __future__ import annotations

from webapp.realtime.base import BaseNamespace


class SystemNamespace(BaseNamespace):
    """Socket.IO handlers for /system."""
