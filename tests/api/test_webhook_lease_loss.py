"""An attempt whose lease was lost meanwhile records nothing.

The sender reads a delivery, releases its transaction and waits on the receiver;
if another process took the webhook's lease meanwhile (it expired), that process
owns the delivery now: this attempt's result must not be written over it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LiveServer
from tests.support.webhooks import Receiver, create_webhook, start_server
from tests.support.world import build_world


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server on its own SQLite file (the test plays the other process in it)."""
    live = start_server(str(tmp_path))
    yield live
    live.process.stop()


def test_a_result_is_not_recorded_once_another_process_holds_the_lease(
    server: LiveServer, tmp_path: Path
) -> None:
    receiver = Receiver(delays=[1.8]).start()  # within WEBHOOK_TIMEOUT (2 s)
    try:
        world = build_world(server.url, server.seed)
        api = world.api(world.msp_user)
        tenant = world.tenant_a["id"]
        hook = create_webhook(api, tenant, receiver.url, ["ping"])
        path = f"/api/tenants/{tenant}/webhooks/{hook['id']}"
        assert api.post(path + "/test").status_code == 202
        # The sender polls every 0.1 s: by now it is waiting on the receiver,
        # and "another process" takes the lease meanwhile.
        time.sleep(0.6)
        with sqlite3.connect(tmp_path / "switchboard.db", timeout=10) as conn:
            conn.execute(
                "UPDATE webhooks SET lease_owner = 'another:1:process',"
                " lease_until = '2100-01-01 00:00:00.000000' WHERE id = ?",
                (hook["id"],),
            )
        receiver.wait_for(lambda got: len(got) >= 1)  # it answers 200 now
        time.sleep(1.5)  # and the sender tries to record it
        (delivery,) = api.get(path + "/deliveries").json()["deliveries"]
        assert delivery["state"] == "pending", delivery
        assert delivery["attempt_log"] == [], delivery
        assert len(receiver.of()) == 1  # and this process sent nothing more
    finally:
        receiver.stop()
