"""The socket server's origin check: an empty allow-list means same origin only."""

from __future__ import annotations

import json

import pytest
import requests
import websocket

from tests.support.server import ServerFactory
from webapp.realtime.build import socket_origins

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def test_origins_map_to_python_engineio_without_disabling_its_check() -> None:
    # python-engineio reads [] as "check nothing"; None is its same-origin check.
    assert socket_origins([]) is None
    assert socket_origins(["*"]) == "*"
    assert socket_origins(["https://app.example", "*"]) == "*"
    assert socket_origins(["https://app.example"]) == ["https://app.example"]


def test_an_empty_origin_list_refuses_foreign_origins(
    server_factory: ServerFactory,
) -> None:
    live = server_factory({"CORS_ALLOWED_ORIGINS": ","}, seed=False)  # an empty list
    evil = {"Origin": "https://evil.example"}
    refused = requests.get(live.url + HANDSHAKE, headers=evil, timeout=5)
    assert refused.status_code == 400
    assert '"sid"' not in refused.text
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(
            live.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
            header=["Origin: https://evil.example"],
            timeout=5,
        )
    # The page's own origin, and clients that send no Origin, still connect.
    same = requests.get(live.url + HANDSHAKE, headers={"Origin": live.url}, timeout=5)
    assert same.status_code == 200
    assert json.loads(same.text[1:])["sid"]
    assert requests.get(live.url + HANDSHAKE, timeout=5).status_code == 200
