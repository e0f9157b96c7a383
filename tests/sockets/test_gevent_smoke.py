"""The smoke path (login, connect, publish, receive) under gevent.

Eventlet is deprecated and gunicorn >= 26 has no eventlet worker, so gevent must
work both with ``python wsgi.py`` and with ``gunicorn -k gevent -w 1 wsgi:app``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.support.server import GUNICORN
from tests.support.sockets import SocketRecorder
from tests.support.world import Api, build_world


@pytest.mark.parametrize(
    "command", [None, GUNICORN], ids=["python-wsgi", "gunicorn-gevent"]
)
def test_login_connect_publish_receive_under_gevent(
    server_factory: Callable[..., LiveServer], command: list[str] | None
) -> None:
    server = server_factory({"SOCKETIO_ASYNC_MODE": "gevent"}, command=command)
    world = build_world(server.url, server.seed)
    recorder = SocketRecorder().connect(
        server.url, world.user_a.access_token, ["/engagement", "/events"]
    )
    try:
        (welcome,) = recorder.wait_for("welcome", namespace="/engagement")
        assert welcome["user"]["id"] == world.user_a.id
        response = Api(server.url, api_key=world.key_a).post(
            "/api/publish",
            json={
                "namespace": "/engagement",
                "event": "alert",
                "data": {"severity": "low", "title": "gevent", "message": "hi"},
                "target": {"tenant": world.tenant_a["id"]},
            },
        )
        assert response.status_code == 202, response.text
        event_id = response.json()["id"]
        recorder.wait_for("alert", lambda e: e["id"] == event_id)
    finally:
        recorder.disconnect()
