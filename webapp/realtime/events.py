"""The /events namespace."""

from __future__ import annotations

from webapp.realtime.base import BaseNamespace


class EventsNamespace(BaseNamespace):
    """Socket.IO handlers for /events."""
