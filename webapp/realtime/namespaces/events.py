"""The /events namespace: security events, detections and per-user agent runs.

Everything on /events is pushed by the server (see
``services/events/security_events.py`` and ``services/events/agent_runs.py``);
connections join their tenant rooms and their own ``user:<id>`` room at connect, so
agent events reach only their user.
"""

from __future__ import annotations

from webapp.realtime.namespaces.base import BaseNamespace


class EventsNamespace(BaseNamespace):
    """Socket.IO handlers for /events (server events only)."""
