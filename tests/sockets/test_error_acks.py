"""Socket error acks name the wrong fields, never pydantic's class names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.sockets import SocketRecorder
from tests.support.world import World


def test_invalid_session_events_name_fields_not_classes(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    client = sockets().connect(world.url, world.user_a.access_token)
    client.wait_for("welcome", namespace="/engagement")

    def refused(event: str, data: Any) -> dict[str, Any]:
        ack = client.call(event, data)
        assert ack["ok"] is False, ack
        error = dict(ack["error"])
        assert error["code"] == "invalid", error
        for text in [error["message"], *(d["message"] for d in error["details"])]:
            assert "instance of" not in text and "JoinSession" not in text, error
            assert "SessionEvent" not in text and "SendMessage" not in text, error
        return error

    not_an_object = refused("join_session", "42")
    assert not_an_object["message"] == "data: Input should be an object"
    assert not_an_object["details"] == [
        {"field": "data", "message": "Input should be an object"}
    ]

    wrong_type = refused("join_session", {"session_id": "x", "last_event_id": -1})
    assert [d["field"] for d in wrong_type["details"]] == [
        "session_id",
        "last_event_id",
    ]
    assert wrong_type["message"].startswith("session_id: ")
    assert "; last_event_id: " in wrong_type["message"]

    missing = refused("send_message", {"session_id": 1})
    assert missing["details"] == [{"field": "text", "message": "Field required"}]
    assert missing["message"] == "text: Field required"

    unknown = refused("leave_session", {"session_id": 1, "room": "tenant:1"})
    assert [d["field"] for d in unknown["details"]] == ["room"]
    assert client.client.connected
