"""Connect ``auth`` ids outside 64-bit range get a refusal code, never silence."""

from __future__ import annotations

import pytest

from tests.support.sockets import SocketFactory, connect_refusal
from tests.support.world import World


@pytest.mark.parametrize("tenant_id", [2**64, 2**63, -1, 0])
def test_admin_watching_a_tenant_id_out_of_range_is_not_found(
    world: World, tenant_id: int
) -> None:
    error = connect_refusal(
        world.url,
        {"token": world.admin.access_token, "tenant_id": tenant_id},
        "/engagement",
    )
    assert error["message"] == "not_found"
    assert error["data"]["message"] == "tenant not found"


def test_admin_watching_an_existing_tenant_still_connects(
    world: World, sockets: SocketFactory
) -> None:
    recorder = sockets().connect(
        world.url,
        world.admin.access_token,
        ["/engagement"],
        auth={"tenant_id": world.tenant_a["id"]},
    )
    recorder.wait_for("welcome")


@pytest.mark.parametrize("last_event_id", [2**63, 2**64, -1])
def test_last_event_id_out_of_range_is_refused(
    world: World, last_event_id: int
) -> None:
    error = connect_refusal(
        world.url,
        {"token": world.user_a.access_token, "last_event_id": last_event_id},
        "/events",
    )
    assert error["message"] == "invalid_last_event_id"
