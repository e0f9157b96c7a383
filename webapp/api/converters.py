"""URL converters: ``<int:…>`` only matches ids a database row can have."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map

from webapp.input_guard import MAX_ID


class IdConverter(IntegerConverter):
    """``int`` bounded to 1..2**63-1: anything else is a 404, not an overflow."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        """The id, or 404 at once.

        Werkzeug checks the method before converting, so "no match" here would
        turn into a 405 for a PATCH or DELETE of an impossible id; a 404 says it.
        """
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise NotFound("no object has this id")
        return super().to_python(value)


def init_converters(app: Flask) -> None:
    """Make every ``<int:…>`` route use ``IdConverter`` (before blueprints load)."""
    app.url_map.converters["int"] = IdConverter
