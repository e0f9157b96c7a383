"""REST CORS: browsers on ``CORS_ALLOWED_ORIGINS`` (the sockets' list) may call /api.

flask-cors answers preflights and adds the headers to every /api response, errors
included; a request from any other origin gets no ``Access-Control-Allow-Origin``,
so the browser keeps the response from the page.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask_cors import CORS  # type: ignore[import-untyped]

# What a front end sends: a bearer token, an integration key, JSON, and the
# idempotency key header some HTTP clients prefer to a body field.
ALLOWED_HEADERS = ["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key"]
# What a front end must be able to read: when to retry after a 429 or 503.
EXPOSED_HEADERS = ["Retry-After"]
# Browsers cache a preflight this long (seconds), saving a round trip per call.
PREFLIGHT_MAX_AGE = 600


def exact_origin(origin: str) -> Any:
    """A pattern matching exactly ``origin`` (``*`` stays the wildcard).

    flask-cors reads an entry with regex characters as an unanchored regex, so
    ``https://app\\.example`` would also admit ``https://app.example.evil.net``;
    engine.io compares literally. Escaped and anchored, both sides agree.
    """
    if origin == "*":
        return origin
    return re.compile(re.escape(origin) + r"\Z", re.IGNORECASE)


def init_cors(app: Flask) -> None:
    """Answer CORS for every /api route from the configured origins."""
    origins = [exact_origin(origin) for origin in app.config["CORS_ALLOWED_ORIGINS"]]
    CORS(
        app,
        resources={r"/api/*": {"origins": origins}},
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE,
        # Tokens travel in headers, never cookies: no credentialed requests.
        supports_credentials=False,
        vary_header=True,
    )
