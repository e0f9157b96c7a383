"""The dashboard page in headless Chromium (Debian's), driven by Playwright.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``
(``make browser`` installs it). Without Chromium the test is skipped, or fails
when ``REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.support.server import ROOT
from tests.support.world import World, build_world

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
SOCKET_IO = "**/socket.io/**"


def raise_alert(world: World, title: str, severity: str = "high") -> int:
    """An alert for tenant A over REST (as A's integration key)."""
    response = world.api(world.key_a).post(
        "/api/dashboard/alerts", json={"title": title, "severity": severity}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["alert_id"])


def test_dashboard_page_is_live_and_recovers_a_restart(
    server_factory: Callable[..., LiveServer], browser: Any
) -> None:
    from playwright.sync_api import expect

    srv = server_factory()
    world = build_world(srv.url, srv.seed)
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    indicator = page.locator('[data-testid="connection-indicator"]')
    open_alerts = page.locator('.card[data-metric="open_alerts"] .value')

    # Log in: the indicator turns green and the analytics cards fill in.
    page.goto(srv.url + "/")
    expect(indicator).to_have_attribute("data-status", "offline")
    page.fill('#login-form input[name="email"]', world.user_a.email)
    page.fill('#login-form input[name="password"]', world.user_a.password)
    page.click('#login-form button[type="submit"]')
    expect(indicator).to_have_attribute("data-status", "connected")
    expect(open_alerts).to_have_text("0")
    expect(page.locator('.card[data-metric="connections"] .value')).to_have_text("1")

    # An alert published over REST appears without a reload, and the cards follow.
    first = raise_alert(world, "Disk full", "critical")
    expect(page.locator(f'#alerts [data-alert-id="{first}"]')).to_contain_text(
        "Disk full"
    )
    expect(open_alerts).to_have_text("1")
    expect(page.locator("#last-event-id")).not_to_have_text("–")

    # The server goes away: reconnecting. It comes back (same port, same database)
    # and an alert is raised before the page gets back in (its socket.io requests
    # are held off meanwhile), so the page must recover what it missed.
    srv.process.stop()
    expect(indicator).to_have_attribute("data-status", "reconnecting")
    page.route(SOCKET_IO, lambda route: route.abort())
    srv.process.start()
    missed = raise_alert(world, "While you were away")
    expect(indicator).to_have_attribute("data-status", "reconnecting")
    page.unroute(SOCKET_IO)
    expect(indicator).to_have_attribute("data-status", "connected", timeout=15_000)
    expect(page.locator(f'#alerts [data-alert-id="{missed}"]')).to_contain_text(
        "While you were away"
    )
    expect(page.locator("#alerts li[data-alert-id]")).to_have_count(2)
    expect(open_alerts).to_have_text("2")

    # Live again after the restart.
    third = raise_alert(world, "After the restart", "low")
    expect(page.locator(f'#alerts [data-alert-id="{third}"]')).to_be_visible()
    expect(page.locator("#alerts li[data-alert-id]")).to_have_count(3)
    expect(open_alerts).to_have_text("3")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # Phone width: everything fits, nothing scrolls sideways.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)

    # Logging out closes the socket: offline, back to the login form.
    page.click("#logout")
    expect(indicator).to_have_attribute("data-status", "offline")
    expect(page.locator("#login-form")).to_be_visible()
    assert page_errors == []
