"""Limits on untrusted input shared by REST and sockets: nesting depth, ids, NUL.

One place decides what "too deep", "not an id" and "a NUL character" mean, so a
REST body and a socket event get the same answer.
"""

from __future__ import annotations

from typing import Any

from webapp.errors import NotFound, ValidationFailed

# Largest id any table can hold (signed 64-bit, SQLite's INTEGER and PostgreSQL's
# BIGINT); a larger one can name nothing and would overflow the database driver.
MAX_ID = 2**63 - 1


def json_depth_exceeds(value: Any, max_depth: int) -> bool:
    """True when ``value`` nests lists/dicts deeper than ``max_depth``.

    Iterative, so a hostile document cannot exhaust the interpreter's stack.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def check_json_depth(value: Any, max_depth: int, where: str = "body") -> None:
    """Refuse (400 ``too_deep``) a document nested deeper than ``max_depth``."""
    if json_depth_exceeds(value, max_depth):
        raise ValidationFailed(
            f"{where} is nested deeper than {max_depth} levels", code="too_deep"
        )


def contains_nul(value: Any) -> bool:
    """True when any string (key or value) in ``value`` holds a NUL character."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def is_valid_id(value: Any) -> bool:
    """True for an int (not bool) that a database id column can hold."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
    )


def require_id_in_range(value: int, what: str = "object") -> int:
    """Return ``value``, or raise 404 for an id no row can have."""
    if not is_valid_id(value):
        raise NotFound(f"no such {what}")
    return value
