"""A connect the server cannot serve (its database is gone) is refused with a code.

python-socketio would close the transport as if the client had sent a malformed
packet; clients need a ``connect_error`` they can act on.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.support.server import drop_database
from tests.support.sockets import connect_refusal
from tests.support.world import build_world

pytestmark = [pytest.mark.postgres]


def test_connect_with_the_database_gone_is_refused_dependency_unavailable(
    server_factory: Callable[..., LiveServer], postgres_url: str
) -> None:
    srv = server_factory(database_url=postgres_url)
    world = build_world(srv.url, srv.seed)
    newcomer = world.add_user(world.tenant_a["id"])  # never connected: cold cache
    drop_database(postgres_url)  # every connection to it ends; reconnects fail

    error = connect_refusal(srv.url, {"token": newcomer.access_token}, "/events")

    assert error["message"] == "dependency_unavailable"
    log = srv.process.log()
    assert "malformed" not in log
    assert "Traceback" not in log
