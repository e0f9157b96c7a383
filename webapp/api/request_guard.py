"""Every REST request's untrusted input checked once: JSON depth and NUL characters.

Before any view (and before authentication: refusing malformed input is cheaper
than checking a token) the path, the query string and a JSON body are checked; the
body is parsed once and cached, and ``GuardedRequest.get_json`` applies the same
checks wherever a view parses it, so no view can forget them.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request

from webapp.errors import ValidationFailed
from webapp.input_guard import contains_nul, json_depth_exceeds

logger = logging.getLogger(__name__)

NUL_MESSAGE = "text must not contain the NUL character (\\u0000)"


def _refuse(reason: str, exc: ValidationFailed) -> ValidationFailed:
    """Log one line for the offence (never a traceback) and return the error."""
    # The path is quoted (%r): it may hold a NUL or a newline forging a log line.
    logger.warning(
        "refused %s %r from %s: %s",
        request.method,
        request.path,
        request.remote_addr,
        reason,
    )
    return exc


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, decoding without NaN and Infinity.

    They are not JSON and no browser parses them; Python's decoder accepts them
    by default, and stored in an event they would reach every client as text
    its ``JSON.parse`` rejects. Flask parses request bodies with ``app.json``.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Decode standard JSON only."""
        kwargs.setdefault("parse_constant", _no_constant)
        kwargs.setdefault("parse_float", _finite)
        return super().loads(s, **kwargs)


class GuardedRequest(Request):
    """A request whose JSON body is refused when too deep or holding a NUL."""

    def get_json(
        self, force: bool = False, silent: bool = False, cache: bool = True
    ) -> Any:
        """Parse the body as usual, then refuse (400) what no view may see."""
        checked = getattr(self, "_guard_checked", False)
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            # The C decoder gives up on a few thousand levels; that is too deep too.
            raise self._too_deep() from None
        if value is None or checked:
            return value
        # The raw text rules most bodies out cheaply (bytes scans run in C): with
        # no more brackets than the limit nothing can nest deeper, and in UTF-8
        # (no zero byte) a NUL can only arrive escaped as \u0000, since JSON
        # forbids raw control characters; UTF-16/32 bodies are always walked.
        raw = self.get_data(cache=True)
        limit = current_app.config["MAX_JSON_DEPTH"]
        brackets = raw.count(b"[") + raw.count(b"{")
        if brackets > limit and json_depth_exceeds(value, limit):
            raise self._too_deep()
        maybe_nul = b"\\u0000" in raw or b"\x00" in raw
        if maybe_nul and contains_nul(value):
            raise _refuse(
                "NUL character in the JSON body",
                ValidationFailed(NUL_MESSAGE, details=[{"field": "body"}]),
            )
        self._guard_checked = True
        return value

    def _too_deep(self) -> ValidationFailed:
        limit = current_app.config["MAX_JSON_DEPTH"]
        return _refuse(
            f"JSON body nested deeper than {limit} levels",
            ValidationFailed(
                f"the body is nested deeper than {limit} levels", code="too_deep"
            ),
        )


def check_request() -> None:
    """Refuse (400) a NUL in the URL, or a JSON body too deep or holding a NUL."""
    refuse_nul_in_url()
    if request.is_json and request.content_length:
        # Invalid JSON is each view's to report (it may not even read the body).
        request.get_json(silent=True)


def refuse_nul_in_url() -> None:
    """Refuse (400) a path or query string holding a NUL character."""
    if "\x00" in request.path:
        raise _refuse(
            "NUL character in the path",
            ValidationFailed(NUL_MESSAGE, details=[{"field": "path"}]),
        )
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise _refuse(
                "NUL character in the query string",
                ValidationFailed(NUL_MESSAGE, details=[{"field": name}]),
            )


def init_request_guard(app: Flask) -> None:
    """Parse every request with ``GuardedRequest`` and check it before any view."""
    app.json = StrictJSONProvider(app)
    app.request_class = GuardedRequest
    app.before_request(check_request)
