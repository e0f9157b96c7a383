"""The /dashboard namespace: analytics on connect, refresh, ping; live feed."""

from __future__ import annotations

from typing import Any

from flask import Flask

from webapp.auth.identity import Identity
from webapp.models.time import isoformat, utcnow
from webapp.realtime.namespaces.base import BaseNamespace
from webapp.services.dashboard import analytics
from webapp.services.dashboard.ticker import AnalyticsTicker


class DashboardNamespace(BaseNamespace):
    """Socket.IO handlers for /dashboard."""

    def __init__(self, namespace: str, app: Flask) -> None:
        super().__init__(namespace, app)
        self.ticker = AnalyticsTicker(app)

    def connection_opened(
        self, sid: str, identity: Identity, rooms: list[str], context: dict[str, Any]
    ) -> None:
        """Send the first snapshot right after ``welcome``; start watching."""
        channel = analytics.channel_for(identity, context.get("watched_tenant_id"))
        analytics.send_snapshot(sid, channel)
        self.ticker.watch(sid, channel)

    def connection_closed(self, sid: str, identity: Identity) -> None:
        """Stop the periodic snapshot for this connection."""
        self.ticker.unwatch(sid)

    def on_ping(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Application-level keep-alive: ``{ok, pong, server_time}``."""
        return {"ok": True, "pong": True, "server_time": isoformat(utcnow())}

    def on_refresh(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Send a fresh ``analytics_update`` now; the ack carries it too."""
        channel = self.ticker.channel_of(sid) or analytics.channel_for(
            self.identity(sid)
        )
        snapshot = analytics.send_snapshot(sid, channel)
        return {
            "ok": True,
            "generated_at": snapshot["generated_at"],
            "analytics": snapshot,
        }
