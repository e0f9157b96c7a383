"""URL converters: ``<int:…>`` only matches ids a database row can have."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from webapp.input_guard import MAX_ID


class IdConverter(IntegerConverter):
    """``int`` bounded to 1..2**63-1: anything else is a 404, not an overflow."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_converters(app: Flask) -> None:
    """Make every ``<int:…>`` route use ``IdConverter`` (before blueprints load)."""
    app.url_map.converters["int"] = IdConverter
