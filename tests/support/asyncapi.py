"""Helpers for the AsyncAPI tests: the official parser (Node) and schema checks."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import jsonschema

from tests.conftest import require_service
from tests.support.server import ROOT

VALIDATOR = ROOT / "tests" / "clients" / "js" / "validate_asyncapi.mjs"
PARSER_PACKAGE = ROOT / "node_modules" / "@asyncapi" / "parser" / "package.json"


def official_parse(document_text: str) -> dict[str, Any]:
    """Run ``@asyncapi/parser`` on a document: ``{version, errors, warnings, ...}``."""
    node = require_service("Node.js (node on PATH)", shutil.which("node"))
    require_service(
        "@asyncapi/parser in node_modules (make node)",
        "yes" if PARSER_PACKAGE.exists() else None,
    )
    done = subprocess.run(
        [node, str(VALIDATOR)],
        input=document_text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def message(doc: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    """A channel's message by name (the channel id is the namespace without /)."""
    found: dict[str, Any] = doc["channels"][namespace.strip("/")]["messages"][name]
    return found


def check_payload(doc: dict[str, Any], namespace: str, name: str, value: Any) -> None:
    """Fail unless ``value`` matches the document's schema for that message."""
    schema = message(doc, namespace, name)["payload"]
    # Rooted in the document, so "#/components/schemas/..." references resolve.
    rooted = {**schema, "components": doc["components"]}
    validator = jsonschema.Draft7Validator(
        rooted, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    validator.validate(value)


def reply_names(operation: dict[str, Any]) -> list[str]:
    """The message names an operation's reply may carry."""
    return [ref["$ref"].rsplit("/", 1)[-1] for ref in operation["reply"]["messages"]]
