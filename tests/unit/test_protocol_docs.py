"""docs/protocol.md is rendered from the AsyncAPI document and kept current."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from webapp.asyncapi.catalog import CLIENT_EVENTS, REFUSAL_CODES
from webapp.asyncapi.message_schemas import example_envelope
from webapp.event_registry import EVENT_TYPES, NAMESPACES
from webapp.protocol_docs import docs_path, render_protocol_docs


def _sections(text: str) -> dict[str, str]:
    """The text of each namespace section, keyed by namespace."""
    sections = {}
    for chunk in text.split("\n## `")[1:]:
        namespace, _, body = chunk.partition("`")
        sections[namespace] = body
    return sections


def test_committed_protocol_docs_match_the_registry(app: Flask) -> None:
    committed = docs_path(app).read_text(encoding="utf-8")
    assert committed == render_protocol_docs(), (
        "docs/protocol.md is stale: run `flask protocol-docs`"
    )


def test_every_registered_event_is_documented_in_its_namespace(app: Flask) -> None:
    sections = _sections(render_protocol_docs())
    assert set(sections) == {et.namespace for et in EVENT_TYPES.values()}
    assert set(sections) <= set(NAMESPACES)
    for et in EVENT_TYPES.values():
        assert f"\n### `{et.name}`\n" in sections[et.namespace], et.key
        assert f'"type": "{et.name}"' in sections[et.namespace], et.key


def test_examples_are_valid_envelopes(app: Flask) -> None:
    for et in EVENT_TYPES.values():
        envelope = example_envelope(et)
        assert set(envelope) == {
            "id",
            "type",
            "namespace",
            "tenant_id",
            "room",
            "data",
            "timestamp",
        }
        assert (envelope["id"] is None) == (not et.persisted), et.key
        assert envelope["room"].split(":")[0] in et.targets, et.key


def test_check_passes_on_the_committed_file(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["protocol-docs", "--check"])
    assert result.exit_code == 0, result.output


def test_check_fails_on_a_stale_file(runner: FlaskCliRunner, tmp_path: Path) -> None:
    stale = tmp_path / "protocol.md"
    stale.write_text("# Protocol reference\n", encoding="utf-8")
    result = runner.invoke(args=["protocol-docs", "--check", "--output", str(stale)])
    assert result.exit_code == 1
    assert "stale" in result.output


def test_command_writes_the_rendered_text(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "docs" / "protocol.md"
    result = runner.invoke(args=["protocol-docs", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == render_protocol_docs()


def test_client_events_and_refusal_codes_are_documented(app: Flask) -> None:
    text = render_protocol_docs()
    sections = _sections(text)
    for ce in CLIENT_EVENTS:
        assert f"\n### `{ce.name}`\n\n" in sections[ce.namespace], ce.name
        assert f"`{ce.name}_ack`" in sections[ce.namespace], ce.name
    connect = text.split("\n## Connect\n", 1)[1].split("\n## ", 1)[0]
    for code in REFUSAL_CODES:
        assert f"\n| `{code}` | " in connect, code
