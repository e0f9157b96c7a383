"""Deleting a webhook while a publish is queueing its deliveries (PostgreSQL).

The publish path reads the subscribers (``outbox.SUBSCRIBERS``) and then inserts
their deliveries in the same transaction. A DELETE committed in between used to
make that insert fail on the foreign key, failing the publish. The test holds a
publish transaction open between the two steps (the very statement the publish
path runs) and sends the DELETE meanwhile: it must wait, then delete the webhook
together with the deliveries just queued.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select

from tests.conftest import require_service
from tests.support.server import (
    LiveServer,
    ServerProcess,
    base_env,
    create_database,
    drop_database,
    prepare_database,
)
from tests.support.webhooks import WEBHOOK_ENV, Receiver, create_webhook
from tests.support.world import build_world
from webapp.models.time import utcnow
from webapp.services.webhooks.outbox import DELIVERIES, INSERT_DELIVERIES, SUBSCRIBERS


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server on a fresh PostgreSQL database."""
    server_url = require_service("PostgreSQL", os.environ.get("TEST_POSTGRES_URL"))
    database_url = create_database(server_url)
    env = base_env(database_url, {**WEBHOOK_ENV, "TEST_LOG_DIR": str(tmp_path)})
    seed = prepare_database(env)
    process = ServerProcess(env).start()
    try:
        yield LiveServer(process, seed, env)
    finally:
        process.stop()
        drop_database(database_url)


def test_a_delete_waits_for_a_publish_that_read_the_webhook(
    pg_server: LiveServer,
) -> None:
    receiver = Receiver().start()
    engine = create_engine(pg_server.env["DATABASE_URL"])
    try:
        world = build_world(pg_server.url, pg_server.seed)
        api = world.api(world.msp_user)
        tenant = world.tenant_a["id"]
        hook = create_webhook(api, tenant, receiver.url, ["event.published"])
        path = f"/api/tenants/{tenant}/webhooks/{hook['id']}"
        deleted: list[requests.Response] = []
        with engine.connect() as conn:
            publish = conn.begin()
            found = conn.execute(SUBSCRIBERS, {"tenant_ids": [tenant]}).all()
            assert [h.id for h in found] == [hook["id"]]
            deleter = threading.Thread(
                target=lambda: deleted.append(api.delete(path)), daemon=True
            )
            deleter.start()
            deleter.join(2)  # it waits for the publish (it used to go through)
            now = utcnow()
            row: dict[str, Any] = {
                "webhook_id": hook["id"],
                "tenant_id": tenant,
                "event_id": "evt_" + "0" * 32,
                "type": "event.published",
                "body": "{}",
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "attempt_log": [],
                "created_at": now,
                "delivered_at": None,
            }
            conn.execute(INSERT_DELIVERIES, [row])  # no foreign-key violation
            publish.commit()
        deleter.join(15)
        assert [r.status_code for r in deleted] == [204], [r.text for r in deleted]
        assert api.get(path).status_code == 404
        with engine.connect() as conn:
            left = conn.scalar(
                select(func.count())
                .select_from(DELIVERIES)
                .where(DELIVERIES.c.webhook_id == hook["id"])
            )
        assert left == 0
    finally:
        engine.dispose()
        receiver.stop()
