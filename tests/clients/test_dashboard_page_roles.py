"""The dashboard page for each role, in headless Debian Chromium (Playwright).

Each test signs in as one role, publishes over REST as the integrations do, and
checks that the right panel and chart update live, that another tenant's data
never appears, and which alert actions the role is offered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.support.dashboard_page import Activity, open_dashboard, screenshot
from tests.support.sockets import SocketRecorder
from tests.support.world import World, build_world

pytestmark = pytest.mark.browser


def test_client_sees_its_tenant_live_in_every_panel_and_chart(
    server: LiveServer,
    world: World,
    browser: Any,
    sockets: Callable[..., SocketRecorder],
) -> None:
    from playwright.sync_api import expect

    a = Activity(world, world.key_a, world.tenant_a["id"])
    b = Activity(world, world.key_b, world.tenant_b["id"])
    page = open_dashboard(browser, server.url, world.user_a)
    alerts_chart = page.locator('[data-testid="alerts-chart"]')
    security_chart = page.locator('[data-testid="security-chart"]')
    metrics_chart = page.locator('[data-testid="metrics-chart"]')
    expect(alerts_chart).to_have_attribute("data-total", "0")

    # Tenant B is busy too; none of it may reach A's page.
    b.alert("B only alert", "critical")
    b_event = b.security_event("B only event")
    b.metrics(b_only_metric=1)
    b.gpu(99, 90, "B-GPU")
    b.camera("b-only-cam", "offline")
    b.session("B only session")

    # /dashboard: an alert appears in the feed (with a date) and in the chart.
    alert_id = a.alert("Disk full", "critical")
    row = page.locator(f'#alerts [data-alert-id="{alert_id}"]')
    expect(row).to_contain_text("Disk full")
    expect(row.locator(".detail")).to_contain_text(str(_year(page)))
    expect(alerts_chart).to_have_attribute("data-total", "1")
    # A client watches alerts but does not close them: no buttons.
    expect(row.locator("button")).to_have_count(0)

    # /events: a security event and a detection, in the feed and the chart.
    event = a.security_event("Door forced open", "high")
    a.detection(event["id"])
    expect(page.locator("#security-feed")).to_contain_text("Door forced open")
    expect(page.locator('#security-feed [data-kind="detection"]')).to_have_count(1)
    expect(security_chart).to_have_attribute("data-total", "2")

    # Metrics: the chart and the latest-values list.
    a.metrics(cpu=41.5, queue=3)
    a.metrics(cpu=57.0, queue=5)
    expect(metrics_chart).to_have_attribute("data-total", "4")
    expect(page.locator('#metrics dd[data-metric-key="cpu"]')).to_have_text("57")

    # /system: a GPU card whose sparkline grows, and the camera list.
    a.gpu(35, 55, "A-GPU")
    a.gpu(80, 66, "A-GPU")
    card = page.locator(".gpu-card", has_text="A-GPU")
    expect(card).to_have_attribute("data-points", "2")
    expect(card.locator('[data-field="utilization"]')).to_have_text("80 %")
    a.camera("lobby-cam", "offline", "no signal")
    expect(page.locator('#camera-list [data-camera-id="lobby-cam"]')).to_have_attribute(
        "data-status", "offline"
    )

    # Engagement sessions with live participants.
    session_id = a.session("War room")
    member = sockets().connect(server.url, world.user_a.access_token)
    assert member.call("join_session", {"session_id": session_id})["ok"] is True
    session_row = page.locator(f'#session-list [data-session-id="{session_id}"]')
    # The panel polls every 5 s: allow a few rounds.
    expect(session_row).to_have_attribute("data-count", "1", timeout=20_000)
    expect(session_row).to_contain_text(world.user_a.email.split("@")[0])

    # An agent run of this user, with its step.
    run_id = a.agent_run(world.user_a.id, "Reading the last alerts")
    run = page.locator(f'#agent-runs [data-run-id="{run_id}"]')
    expect(run).to_have_attribute("data-status", "running")
    expect(run).to_contain_text("Reading the last alerts")

    # Nothing of tenant B anywhere, although it was published first.
    text = page.locator("#dashboard-view").inner_text()
    for foreign in ("B only", "B-GPU", "b-only-cam", "b_only_metric"):
        assert foreign not in text
    assert page.locator(f'[data-event-id="{b_event["event"]["id"]}"]').count() == 0
    assert page.locator("#filter-tenant-label").is_hidden()
    screenshot(page, "dashboard-client")

    # A reload keeps the trends: the charts come back from the event log.
    page.reload()
    expect(alerts_chart).to_have_attribute("data-total", "1")
    expect(metrics_chart).to_have_attribute("data-total", "4")
    expect(page.locator('#metrics dd[data-metric-key="cpu"]')).to_have_text("57")
    assert page.errors == []


def _year(page: Any) -> int:
    return int(page.evaluate("new Date().getFullYear()"))


def test_msp_filters_by_tenant_and_severity_acts_on_alerts_and_sees_stale(
    server_factory: Callable[..., LiveServer], browser: Any
) -> None:
    from playwright.sync_api import expect

    srv = server_factory()
    world = build_world(srv.url, srv.seed)
    stranger = build_world(srv.url, srv.seed)  # another MSP and its clients
    a = Activity(world, world.key_a, world.tenant_a["id"])
    b = Activity(world, world.key_b, world.tenant_b["id"])
    page = open_dashboard(browser, srv.url, world.msp_user)
    alerts = page.locator("#alerts li[data-alert-id]")
    alerts_chart = page.locator('[data-testid="alerts-chart"]')
    tenant_a = world.tenant_a["id"]
    tenant_a_row = page.locator(f'#tenant-rows [data-tenant-id="{tenant_a}"]')

    Activity(stranger, stranger.key_a, stranger.tenant_a["id"]).alert("Stranger alert")
    a_alert = a.alert("A is on fire", "critical")
    b.alert("B is a bit warm", "low")
    a.security_event("A door", "high")
    b.security_event("B window", "low")
    a.metrics(cpu=20)
    b.metrics(cpu=70)
    expect(alerts).to_have_count(2)
    expect(alerts_chart).to_have_attribute("data-total", "2")
    expect(page.locator("#security-feed li[data-event-id]")).to_have_count(2)
    # MSP staff see which client an item is from, and per-tenant health.
    expect(page.locator(f'#alerts [data-alert-id="{a_alert}"]')).to_contain_text(
        world.tenant_a["name"]
    )
    expect(tenant_a_row).to_have_attribute("data-health", "alerting")
    screenshot(page, "dashboard-msp")

    # Tenant filter: only A's items, in the lists and the charts.
    page.select_option("#filter-tenant", str(world.tenant_a["id"]))
    expect(alerts).to_have_count(1)
    expect(alerts_chart).to_have_attribute("data-total", "1")
    expect(page.locator("#security-feed")).not_to_contain_text("B window")
    expect(page.locator('#metrics dd[data-metric-key="cpu"]')).to_have_text("20")
    expect(page.locator('.card[data-metric="open_alerts"] .value')).to_have_text("1")
    page.select_option("#filter-tenant", "")
    # Severity filter: "high and up" drops B's low alert and event.
    page.select_option("#filter-severity", "high")
    expect(alerts).to_have_count(1)
    expect(page.locator("#security-feed li[data-event-id]")).to_have_count(1)
    page.select_option("#filter-severity", "")
    expect(alerts).to_have_count(2)

    # MSP staff may acknowledge: the button works and the status follows live.
    row = page.locator(f'#alerts [data-alert-id="{a_alert}"]')
    row.get_by_role("button", name="Ack").click()
    expect(row).to_have_attribute("data-status", "acknowledged")
    expect(tenant_a_row).to_have_attribute("data-health", "attention")
    page.select_option("#filter-status", "acknowledged")
    expect(alerts).to_have_count(1)
    page.select_option("#filter-status", "")

    # The server goes away: everything is marked stale until it is back.
    srv.process.stop()
    expect(page.locator('[data-testid="stale-banner"]')).to_be_visible()
    expect(page.locator("#events-panel")).to_have_attribute("data-stale", "true")
    expect(page.locator("#system-panel")).to_have_attribute("data-stale", "true")
    srv.process.start()
    expect(page.locator('[data-testid="connection-indicator"]')).to_have_attribute(
        "data-status", "connected", timeout=15_000
    )
    expect(page.locator('[data-testid="stale-banner"]')).to_be_hidden()
    expect(page.locator("#events-panel")).to_have_attribute(
        "data-stale", "false", timeout=15_000
    )

    # Phone width: nothing scrolls sideways, the tenant table included.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    table = page.locator("#tenants-panel .table-wrap")
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth")
    expect(page.locator("#tenants-panel thead")).to_be_hidden()  # rows are cards
    expect(page.locator("#sessions-panel")).to_have_attribute("data-stale", "false")
    screenshot(page, "dashboard-msp-phone")
    assert "Stranger" not in page.locator("#dashboard-view").inner_text()
    assert page.errors == []


def test_admin_watches_one_tenant_and_resolves_its_alerts(
    server: LiveServer, world: World, browser: Any
) -> None:
    from playwright.sync_api import expect

    a = Activity(world, world.key_a, world.tenant_a["id"])
    b = Activity(world, world.key_b, world.tenant_b["id"])
    page = open_dashboard(browser, server.url, world.admin)
    # An admin picks any tenant; the page reconnects watching that one.
    page.select_option("#filter-tenant", str(world.tenant_a["id"]))
    expect(page.locator("#filter-tenant")).to_have_value(str(world.tenant_a["id"]))
    expect(page.locator('[data-testid="connection-indicator"]')).to_have_attribute(
        "data-status", "connected"
    )
    b_alert = b.alert("B must stay out", "critical")
    a_alert = a.alert("A needs an admin", "high")
    a.metrics(gpu_queue=4)
    a.camera("dock-cam", "error", "lens fogged")
    a.gpu(63, 71, "A-GPU")
    row = page.locator(f'#alerts [data-alert-id="{a_alert}"]')
    expect(row).to_contain_text("A needs an admin")
    expect(page.locator('[data-testid="metrics-chart"]')).to_have_attribute(
        "data-total", "1"
    )
    expect(page.locator('#camera-list [data-camera-id="dock-cam"]')).to_be_visible()
    expect(page.locator(".gpu-card", has_text="A-GPU")).to_be_visible()
    screenshot(page, "dashboard-admin")
    row.get_by_role("button", name="Resolve").click()
    expect(row).to_have_attribute("data-status", "resolved")
    expect(row.locator("button")).to_have_count(0)
    assert page.locator(f'#alerts [data-alert-id="{b_alert}"]').count() == 0
    assert "B must stay out" not in page.locator("#dashboard-view").inner_text()
    assert page.errors == []
