"""The /system namespace: GPU and camera status, with a snapshot on connect."""

from __future__ import annotations

from typing import Any

from webapp.auth.identity import Identity
from webapp.realtime.namespaces.base import BaseNamespace
from webapp.services.delivery import to_connection
from webapp.services.system import state as system_state


class SystemNamespace(BaseNamespace):
    """Socket.IO handlers for /system (server events only)."""

    def connection_opened(
        self, sid: str, identity: Identity, rooms: list[str], context: dict[str, Any]
    ) -> None:
        """Send ``system_snapshot`` for the tenants this connection watches."""
        tenant_ids = [int(r.split(":", 1)[1]) for r in rooms if r.startswith("tenant:")]
        to_connection.send_to_connection(
            sid,
            self.namespace or "/system",
            "system_snapshot",
            system_state.snapshot(tenant_ids),
        )
