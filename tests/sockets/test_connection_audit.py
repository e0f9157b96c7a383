"""Sockets of a user deactivated, or a token revoked, where no close could reach.

Deactivation and logout close sockets cluster-wide through Redis at once; when that
message is lost (Redis down at the time) or the change is made straight in the
database, each process's periodic audit still closes them.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.conftest import LiveServer
from tests.support.sockets import SocketFactory, SocketRecorder
from tests.support.world import build_world


def _wait_closed(recorder: SocketRecorder, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while recorder.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    return not recorder.client.connected


def _jti(token: str) -> str:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["jti"])


def test_changes_made_behind_the_servers_back_close_sockets(
    server_factory: Callable[..., LiveServer], sockets: SocketFactory
) -> None:
    srv = server_factory({"CONNECTION_AUDIT_INTERVAL": "0.3"})
    world = build_world(srv.url, srv.seed)
    deactivated = world.add_user(world.tenant_a["id"])
    logged_out = world.add_user(world.tenant_a["id"])
    bystander = world.add_user(world.tenant_a["id"])
    live = {
        member.id: sockets().connect(srv.url, member.access_token, ["/events"])
        for member in (deactivated, logged_out, bystander)
    }
    for recorder in live.values():
        recorder.wait_for("welcome", namespace="/events")

    # Written straight into the database: no request, no cache invalidation, no
    # Redis message tells the server.
    database = srv.env["DATABASE_URL"].removeprefix("sqlite:///")
    now = datetime.now(UTC)
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE users SET deactivated_at = ? WHERE id = ?",
            (now.isoformat(), deactivated.id),
        )
        conn.execute(
            "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES (?, ?, ?)",
            (
                _jti(logged_out.access_token),
                (now + timedelta(hours=1)).isoformat(),
                now.isoformat(),
            ),
        )

    assert _wait_closed(live[deactivated.id])
    assert _wait_closed(live[logged_out.id])
    time.sleep(1.0)  # several audits later, the others are untouched
    assert live[bystander.id].client.connected
    assert "Traceback" not in srv.process.log()
