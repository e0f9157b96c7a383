"""Secret rotation with a grace period: both secrets sign, then only the new one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LiveServer
from tests.support.webhooks import Receiver, create_webhook, start_server
from tests.support.world import build_world
from webapp.services.webhooks.signer import verify

GRACE = 2.0  # WEBHOOK_SECRET_GRACE of this module's server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose rotations keep the old secret for two seconds."""
    live = start_server(str(tmp_path), {"WEBHOOK_SECRET_GRACE": str(GRACE)})
    yield live
    live.process.stop()


def test_the_old_secret_signs_too_until_the_grace_ends(server: LiveServer) -> None:
    receiver = Receiver().start()
    try:
        world = build_world(server.url, server.seed)
        api = world.api(world.msp_user)
        tenant = world.tenant_a["id"]
        hook = create_webhook(api, tenant, receiver.url, ["ping"])
        path = f"/api/tenants/{tenant}/webhooks/{hook['id']}"
        old = hook["secret"]
        rotated_at = time.monotonic()
        new = api.post(path + "/rotate-secret").json()["secret"]
        assert api.post(path + "/test").status_code == 202
        (during,) = receiver.wait_for(lambda got: len(got) == 1)
        header = during.headers["Switchboard-Signature"]
        assert header.count("v1=") == 2, header
        assert verify(old, header, during.body) and verify(new, header, during.body)

        time.sleep(max(0.0, rotated_at + GRACE + 0.5 - time.monotonic()))
        assert api.post(path + "/test").status_code == 202
        after = receiver.wait_for(lambda got: len(got) == 2)[1]
        header = after.headers["Switchboard-Signature"]
        assert header.count("v1=") == 1, header
        assert verify(new, header, after.body) and not verify(old, header, after.body)
    finally:
        receiver.stop()
