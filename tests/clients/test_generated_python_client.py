"""docs/examples/generate_client.sh: a typed client generated from /openapi.json, used.

The script runs openapi-python-client against the live server; the generated package
then logs in, publishes, and reads the history — and another tenant's user, through
the same client, does not see what was published.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.server import PYTHON, ROOT
from tests.support.world import World

SCRIPT = ROOT / "docs" / "examples" / "generate_client.sh"
PACKAGE = "switchboard_client"


@pytest.fixture
def client_package(world: World, tmp_path: Path) -> Iterator[ModuleType]:
    """Run the documented script, then import what it generated."""
    bin_dir = str(Path(PYTHON).parent)  # openapi-python-client and ruff (its hooks)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run(
        ["sh", str(SCRIPT), world.url, str(tmp_path / PACKAGE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generated_client_logs_in_publishes_and_reads_history(
    client_package: ModuleType, world: World
) -> None:
    """Typed calls end to end; tenant B's user does not see tenant A's event."""
    models = _module("models")
    auth_login = _module("api.auth.auth_login")
    publish = _module("api.publish.publish_publish")
    history = _module("api.history.history_list_events")

    credentials = models.LoginBody(
        email=world.msp_user.email, password=world.msp_user.password
    )
    with client_package.Client(base_url=world.url) as anonymous:
        tokens = auth_login.sync(client=anonymous, body=credentials)
    assert isinstance(tokens, models.Tokens), tokens
    assert tokens.user.role == models.UserRole.MSP

    body = models.PublishBody.from_dict(
        {
            "namespace": "/dashboard",
            "event": "alert",
            "data": {"title": "from the generated client", "severity": "high"},
            "target": {"tenant": world.tenant_a["id"]},
        }
    )
    with client_package.AuthenticatedClient(
        base_url=world.url, token=tokens.access_token
    ) as staff:
        published = publish.sync(client=staff, body=body)
    assert isinstance(published, models.Published), published
    assert published.room == f"tenant:{world.tenant_a['id']}"
    assert published.duplicate is False

    def seen_by(member_token: str) -> list[int]:
        with client_package.AuthenticatedClient(
            base_url=world.url, token=member_token
        ) as client:
            events = history.sync(client=client, namespace="/dashboard", type_="alert")
        assert isinstance(events, models.Events), events
        return [item["id"] for item in (e.to_dict() for e in events.events)]

    assert published.id in seen_by(world.user_a.access_token)
    assert published.id not in seen_by(world.user_b.access_token)

    # Tenant B's integration key, sent as X-API-Key, cannot publish to tenant A.
    with client_package.AuthenticatedClient(
        base_url=world.url, token=world.key_b, prefix="", auth_header_name="X-API-Key"
    ) as key_b:
        refused = publish.sync_detailed(client=key_b, body=body)
    assert refused.status_code == 404
    assert isinstance(refused.parsed, models.ErrorResponse)
    assert refused.parsed.error.code == "not_found"
