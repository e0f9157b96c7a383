"""README's configuration table names every environment variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `_env_int("NAME", …)`, `os.environ.get("NAME")`, `os.environ["NAME"]` and the like.
READ = re.compile(
    r"""(?:_env_(?:int|float|bool|list)\(|os\.environ\.get\(|os\.environ\[|getenv\()"""
    r"""\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def settings_read() -> set[str]:
    """Every environment variable name config.py, wsgi.py and webapp/ read."""
    sources = [ROOT / "config.py", ROOT / "wsgi.py", *(ROOT / "webapp").rglob("*.py")]
    return {name for path in sources for name in READ.findall(path.read_text())}


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", readme, flags=re.M))
    read = settings_read()
    assert len(read) > 50, "the pattern no longer finds the settings"
    assert not read - listed, f"settings missing from README's table: {read - listed}"


def test_the_pattern_finds_a_setting() -> None:
    assert READ.findall('X = _env_float("WEBHOOK_TIMEOUT", 5.0)') == ["WEBHOOK_TIMEOUT"]
    assert READ.findall('os.environ.get("PORT", "5000")') == ["PORT"]
