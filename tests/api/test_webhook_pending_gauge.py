"""``switchboard_webhook_pending`` counts what will be sent: not a disabled hook's."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.ops import scrape, value
from tests.support.server import LiveServer
from tests.support.webhooks import Receiver, create_webhook, start_server
from tests.support.world import build_world


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose retries wait long: a failed ping stays pending."""
    live = start_server(str(tmp_path), {"WEBHOOK_BACKOFF_BASE": "600"})
    yield live
    live.process.stop()


def wait_until(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Poll ``check`` until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_disabled_webhooks_deliveries_are_not_pending(server: LiveServer) -> None:
    receiver = Receiver(default_status=500).start()
    try:
        world = build_world(server.url, server.seed)
        api = world.api(world.msp_user)
        tenant = world.tenant_a["id"]
        hook = create_webhook(api, tenant, receiver.url, ["ping"])
        path = f"/api/tenants/{tenant}/webhooks/{hook['id']}"

        def pending() -> float | None:
            return value(scrape(server.url), "switchboard_webhook_pending")

        # Every outcome is exported before any attempt (alerts read 0, not nothing).
        families = scrape(server.url)
        for outcome in ("delivered", "retrying", "failed"):
            assert (
                value(families, "switchboard_webhook_attempts_total", outcome=outcome)
                == 0
            )
        api.post(path + "/test")
        receiver.wait_for(lambda got: len(got) == 1)  # 500: retried in 10 minutes
        wait_until(lambda: pending() == 1, "the failed ping is pending")
        assert api.patch(path, json={"enabled": False}).status_code == 200
        wait_until(lambda: pending() == 0, "a disabled webhook's delivery counted")
        assert api.patch(path, json={"enabled": True}).status_code == 200
        wait_until(lambda: pending() == 1, "re-enabled: pending again")
    finally:
        receiver.stop()
