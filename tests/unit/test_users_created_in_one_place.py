"""Users are created by one service function: REST, create-admin and seed-demo."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ONE_PLACE = "webapp/services/tenancy/users.py"


def user_constructions() -> list[str]:
    """Every ``User(...)`` call in the webapp, as ``file:line``."""
    found = []
    for path in sorted((ROOT / "webapp").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "User"
            ):
                found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    return found


def test_only_add_user_builds_a_user() -> None:
    """flask seed-demo and create-admin reuse ``add_user`` (hashing, email check)."""
    found = user_constructions()
    assert found, "add_user no longer builds a User?"
    elsewhere = [where for where in found if not where.startswith(ONE_PLACE)]
    assert not elsewhere, "users created outside add_user:\n" + "\n".join(elsewhere)
