"""GET /asyncapi.json: an AsyncAPI 3.0 document that the official parser accepts,
and that holds every registered event and every client event handler.

The document is generated from ``webapp/event_registry.py`` and the namespaces' models;
these tests fail when an event or a handler is added without reaching it.
"""

from __future__ import annotations

import ast
import inspect
import json
from typing import Any

import pytest
import requests
from flask import Flask

from tests.support.asyncapi import check_payload, message, official_parse, reply_names
from tests.support.server import ROOT, LiveServer
from webapp.asyncapi.catalog import REFUSAL_CODES
from webapp.asyncapi.document import build_document
from webapp.asyncapi.message_schemas import example_envelope
from webapp.event_registry import EVENT_TYPES, NAMESPACES

pytestmark = pytest.mark.node

LIFECYCLE = {"connect", "disconnect"}


@pytest.fixture(scope="module")
def served(server: LiveServer) -> requests.Response:
    """``GET /asyncapi.json`` from the live server, unauthenticated."""
    return requests.get(server.url + "/asyncapi.json", timeout=10)


@pytest.fixture(scope="module")
def doc(served: requests.Response) -> dict[str, Any]:
    """The served document."""
    assert served.status_code == 200, served.text
    document: dict[str, Any] = served.json()
    return document


def client_event_handlers(app: Flask) -> set[tuple[str, str]]:
    """(namespace, event) of every ``on_<event>`` handler registered on the server."""
    sio = app.extensions["socketio"]
    found = set()
    for namespace, handler in sio.namespace_handlers.items():
        for name, _ in inspect.getmembers(handler, inspect.ismethod):
            if name.startswith("on_") and name[3:] not in LIFECYCLE:
                found.add((namespace, name[3:]))
    return found


def documented_client_events(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """(namespace, event) of every acknowledged client event in the document."""
    found = set()
    for op in doc["operations"].values():
        channel = doc["channels"][op["channel"]["$ref"].rsplit("/", 1)[-1]]
        name = op["messages"][0]["$ref"].rsplit("/", 1)[-1]
        if op["action"] == "receive" and name != "connect":
            found.add((channel["address"], name))
    return found


def test_the_official_parser_finds_no_error(served: requests.Response) -> None:
    assert served.headers["Content-Type"] == "application/json"
    result = official_parse(served.text)
    assert result["errors"] == [], result["errors"]
    assert result["warnings"] == [], result["warnings"]
    assert result["version"] == "3.0.0"
    assert result["channels"] == list(NAMESPACES)
    assert "engagement.join_session" in result["operations"]


def test_the_parser_rejects_a_broken_document(doc: dict[str, Any]) -> None:
    """The check above can fail: a message outside its operation's channel."""
    broken = json.loads(json.dumps(doc))
    replayed = broken["operations"]["events.replay"]["messages"]
    replayed.append({"$ref": "#/channels/engagement/messages/alert"})
    errors = official_parse(json.dumps(broken))["errors"]
    path = f"operations.events.replay.messages.{len(replayed) - 1}"
    assert [e["path"] for e in errors] == [path]


def test_every_registered_event_is_a_send_operation(doc: dict[str, Any]) -> None:
    for (namespace, name), et in EVENT_TYPES.items():
        channel_id = namespace.strip("/")
        op = doc["operations"][f"{channel_id}.{name}"]
        assert op["action"] == "send", et.key
        assert op["messages"] == [
            {"$ref": f"#/channels/{channel_id}/messages/{name}"}
        ], et.key
        envelope = message(doc, namespace, name)["payload"]
        schema_ref = envelope["properties"]["data"]["$ref"]
        assert schema_ref == f"#/components/schemas/{et.schema.__name__}", et.key
        assert message(doc, namespace, name)["x-persisted"] == et.persisted
        # Persisted events are what a reconnect replays.
        replayed = doc["operations"][f"{channel_id}.replay"]["messages"]
        assert (op["messages"][0] in replayed) == et.persisted, et.key


def test_examples_match_their_message_schemas(doc: dict[str, Any]) -> None:
    for et in EVENT_TYPES.values():
        example = example_envelope(et)
        check_payload(doc, et.namespace, et.name, example)
        if et.persisted:
            check_payload(doc, et.namespace, et.name, {**example, "replayed": True})


def test_every_client_event_handler_is_documented(app: Flask) -> None:
    doc = build_document()
    handlers = client_event_handlers(app)
    assert ("/engagement", "join_session") in handlers
    assert handlers == documented_client_events(doc)
    for namespace, name in handlers:
        op = doc["operations"][f"{namespace.strip('/')}.{name}"]
        assert reply_names(op) == [f"{name}_ack", "error_ack"]


def test_every_namespace_documents_connect_refusals_and_replay(
    doc: dict[str, Any],
) -> None:
    for namespace in NAMESPACES:
        channel_id = namespace.strip("/")
        connect = doc["operations"][f"{channel_id}.connect"]
        assert reply_names(connect) == ["welcome", "connect_error"]
        assert connect["security"] == [
            {"$ref": "#/components/securitySchemes/accessToken"}
        ]
        refusal = message(doc, namespace, "connect_error")["payload"]
        codes = [c["const"] for c in refusal["properties"]["message"]["oneOf"]]
        assert codes == list(REFUSAL_CODES)
        assert "replay_complete" in doc["channels"][channel_id]["messages"]
        rooms = [room["kind"] for room in doc["channels"][channel_id]["x-rooms"]]
        assert rooms[:3] == ["tenant", "msp", "user"]
    auth = doc["components"]["schemas"]["ConnectAuth"]["properties"]
    assert set(auth) == {"token", "last_event_id", "tenant_id"}
    scheme = doc["components"]["securitySchemes"]["accessToken"]
    assert (scheme["type"], scheme["bearerFormat"]) == ("http", "JWT")


def test_refusal_codes_are_the_ones_the_server_raises() -> None:
    """Every documented refusal code is raised somewhere in the server's code."""
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "webapp").rglob("*.py")
        if "asyncapi" not in path.relative_to(ROOT).parts
    )
    for code in REFUSAL_CODES:
        assert f'"{code}"' in source, code


@pytest.mark.parametrize(
    "guide", ["README.md", "docs/architecture.md", "docs/client.md"]
)
def test_hand_written_refusal_tables_list_every_code(guide: str) -> None:
    """The guides' own refusal tables keep up with the document's codes."""
    text = (ROOT / guide).read_text(encoding="utf-8")
    for code in REFUSAL_CODES:
        assert f"| `{code}` |" in text, (guide, code)


def server_messages_sent_outside_the_registry() -> set[str]:
    """Event names passed as literals to ``send_to_connection`` anywhere in webapp/."""
    found = set()
    for path in (ROOT / "webapp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "send_to_connection"
                and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)
            ):
                found.add(node.args[2].value)
    return found


def test_every_message_sent_to_one_connection_is_documented() -> None:
    """welcome, snapshots, replay_complete: a new one must reach the document."""
    sent = server_messages_sent_outside_the_registry()
    assert {"welcome", "system_snapshot", "replay_complete"} <= sent
    documented = {
        name
        for channel in build_document()["channels"].values()
        for name in channel["messages"]
    }
    assert sent <= documented, sent - documented
