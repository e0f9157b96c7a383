"""The Socket.IO Admin UI in headless Chromium: log in, see live sockets, offline.

The UI (``@socket.io/admin-ui`` from npm) is served by the app at
``/socketio-admin/``; every request the page makes to another host is aborted
and recorded, and there must be none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.support.ops import ADMIN_PASSWORD, ADMIN_UI_ENV, ADMIN_USERNAME
from tests.support.server import ROOT
from tests.support.sockets import SocketRecorder
from tests.support.world import build_world

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"


def test_admin_ui_logs_in_and_shows_live_sockets_without_the_internet(
    server_factory: Callable[..., LiveServer], browser: Any
) -> None:
    from playwright.sync_api import Route, expect

    srv = server_factory(ADMIN_UI_ENV)
    world = build_world(srv.url, srv.seed)
    first = SocketRecorder().connect(srv.url, world.user_a.access_token)
    later = SocketRecorder()
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    elsewhere: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(srv.url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        page.goto(srv.url + "/socketio-admin/")
        # The connection form is preset to this server; only the login is typed.
        expect(page.get_by_label("Server URL")).to_have_value(srv.url)
        page.get_by_label("Username").fill(ADMIN_USERNAME)
        page.get_by_label("Password").fill(ADMIN_PASSWORD + "-wrong")
        page.get_by_role("button", name="Connect").click()
        expect(page.get_by_text("authentication failed")).to_be_visible()
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Connect").click()
        status = re.compile(r"Status:\s*connected", re.IGNORECASE)
        expect(page.get_by_role("banner")).to_contain_text(status)

        page.get_by_role("link", name="Sockets").click()
        first_sid = first.client.get_sid("/engagement")

        def row(sid: str) -> Any:
            return page.get_by_role("cell", name=sid, exact=True)

        expect(row(first_sid)).to_be_visible()
        # A client that connects while the page is open appears live, and leaves.
        later.connect(srv.url, world.user_b.access_token)
        later_sid = later.client.get_sid("/engagement")
        expect(row(later_sid)).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-ui-sockets.png"))
        later.disconnect()
        expect(row(later_sid)).to_have_count(0)
        expect(row(first_sid)).to_be_visible()
    finally:
        first.disconnect()
        later.disconnect()
        page.close()
    assert elsewhere == [], f"the page reached for other hosts: {elsewhere}"
    assert page_errors == []
