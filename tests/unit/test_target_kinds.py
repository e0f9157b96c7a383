"""Publish target kinds are registered explicitly at app start-up, all of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from webapp import create_app
from webapp.event_registry import TARGET_KINDS
from webapp.services.delivery.targets import TARGET_RESOLVERS

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_services_registers_no_target_kind() -> None:
    """No import side effect: the session kind is not registered by sessions.py."""
    code = (
        "import webapp.services.engagement.sessions\n"
        "import webapp.services.delivery.publisher\n"
        "from webapp.services.delivery.targets import TARGET_RESOLVERS\n"
        "print(sorted(TARGET_RESOLVERS))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_the_app_registers_every_declared_target_kind() -> None:
    """Every kind the registry declares has a resolver once the app exists."""
    create_app("testing")
    assert set(TARGET_RESOLVERS) == set(TARGET_KINDS)
