"""REST CORS: a front end on an allowed origin logs in and calls the API; others can't.

The browser test runs headless Debian Chromium (Playwright, ``/usr/bin/chromium``)
against a page served from another port: ``http://localhost:<port>`` is allowed,
``http://127.0.0.1:<port>`` is a different origin and is not.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.conftest import LiveServer
from tests.support.server import free_port
from tests.support.world import build_world

PAGE = b"<!doctype html><html><head><title>front end</title></head><body></body></html>"

LOGIN_AND_CALL = """
async ([api, email, password]) => {
  const login = await fetch(api + "/api/auth/login", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({email, password}),
  });
  const tokens = await login.json();
  const me = await fetch(api + "/api/auth/me", {
    headers: {"Authorization": "Bearer " + tokens.access_token},
  });
  return {login: login.status, me: me.status, user: (await me.json()).user};
}
"""

TRY_LOGIN = """
async ([api, email, password]) => {
  try {
    const response = await fetch(api + "/api/auth/login", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({email, password}),
    });
    return "read status " + response.status;
  } catch (error) {
    return "blocked: " + error.message;
  }
}
"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def page_port() -> Iterator[int]:
    """A tiny static site on 127.0.0.1 (reachable as localhost too)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_a_page_on_an_allowed_origin_logs_in_and_a_foreign_one_is_blocked(
    server_factory: Callable[..., LiveServer],
    browser: Any,
    page_port: int,
) -> None:
    allowed = f"http://localhost:{page_port}"
    srv = server_factory({"CORS_ALLOWED_ORIGINS": f"https://app.test,{allowed}"})
    world = build_world(srv.url, srv.seed)
    who = [srv.url, world.user_a.email, world.user_a.password]

    page = browser.new_page()
    page.goto(allowed + "/")
    result = page.evaluate(LOGIN_AND_CALL, who)
    assert result["login"] == 200 and result["me"] == 200, result
    assert result["user"]["email"] == world.user_a.email
    page.close()

    foreign = browser.new_page()
    foreign.goto(f"http://127.0.0.1:{page_port}/")
    outcome = foreign.evaluate(TRY_LOGIN, who)
    assert outcome.startswith("blocked"), outcome
    foreign.close()


def _preflight(url: str, origin: str, headers: str) -> requests.Response:
    return requests.options(
        url + "/api/tenants",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
        timeout=10,
    )


def test_preflight_and_requests_answer_only_the_configured_origins(
    server_factory: Callable[..., LiveServer],
) -> None:
    origin = "https://app.example"
    srv = server_factory({"CORS_ALLOWED_ORIGINS": f"{origin},https://admin.example"})
    world = build_world(srv.url, srv.seed)
    wanted = "authorization, content-type, x-api-key, idempotency-key"

    allowed = _preflight(srv.url, origin, wanted)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == origin
    granted = {
        h.strip().lower()
        for h in allowed.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert granted == {"authorization", "content-type", "x-api-key", "idempotency-key"}
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Origin" in allowed.headers.get("Vary", "")

    foreign = _preflight(srv.url, "https://evil.example", wanted)
    assert "Access-Control-Allow-Origin" not in foreign.headers

    # Actual requests, success and error alike, carry the headers for that origin.
    me = world.api(world.user_a).get("/api/auth/me", headers={"Origin": origin})
    assert me.status_code == 200
    assert me.headers["Access-Control-Allow-Origin"] == origin
    assert "Retry-After" in me.headers["Access-Control-Expose-Headers"]
    refused = requests.get(
        srv.url + "/api/auth/me", headers={"Origin": origin}, timeout=10
    )
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == origin
    evil = world.api(world.user_a).get(
        "/api/auth/me", headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in evil.headers
    # Only /api is opened to other origins.
    health = requests.get(srv.url + "/health", headers={"Origin": origin}, timeout=10)
    assert "Access-Control-Allow-Origin" not in health.headers


def test_development_default_allows_any_origin(
    server_factory: Callable[..., LiveServer],
) -> None:
    srv = server_factory()  # development, CORS_ALLOWED_ORIGINS unset: "*"
    for origin in ("http://localhost:3000", "https://anything.example"):
        response = _preflight(srv.url, origin, "content-type")
        assert response.headers["Access-Control-Allow-Origin"] == origin


def test_origins_match_exactly_even_with_regex_characters() -> None:
    """flask-cors would read ``app\\.example`` as an unanchored regex; we never do."""
    from flask import Flask

    from webapp.api.cors import init_cors

    app = Flask(__name__)
    app.config["CORS_ALLOWED_ORIGINS"] = [r"https://app\.example", "https://b.example"]
    app.add_url_rule("/api/ping", "ping", lambda: "pong")
    init_cors(app)
    client = app.test_client()

    def allowed(origin: str) -> str | None:
        response = client.get("/api/ping", headers={"Origin": origin})
        return response.headers.get("Access-Control-Allow-Origin")

    assert allowed("https://b.example") == "https://b.example"
    assert allowed("https://B.EXAMPLE") == "https://B.EXAMPLE"  # hosts ignore case
    assert allowed("https://b.example.evil.net") is None
    assert allowed("https://app.example.evil.net") is None
    assert allowed("https://appXexample") is None
