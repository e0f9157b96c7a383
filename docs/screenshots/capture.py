"""Make docs/screenshots/: the dashboard of each role, with a day of activity.

    python docs/screenshots/capture.py          (make screenshots)

Starts a throwaway server (SQLite in a temporary folder), builds an MSP with two
client tenants, and publishes a day's worth of alerts, security events,
detections and metrics through the REST API like integrations do. Publishing
takes seconds, so the script then spreads those events' ``created_at`` over the
last 24 hours in its throwaway database (ids stay in time order): that is the
only thing not done through the API, and it is what gives the trend charts a
shape. Then headless Chromium signs in as each role, more is published live
(GPU readings, cameras, a session, an agent run) and a full-page screenshot is
saved.
"""

from __future__ import annotations

import math
import random
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.support.dashboard_page import (  # noqa: E402
    DOCS_SCREENSHOTS,
    Activity,
    open_dashboard,
)
from tests.support.server import (  # noqa: E402
    ServerProcess,
    base_env,
    prepare_database,
)
from tests.support.sockets import SocketRecorder  # noqa: E402
from tests.support.world import build_world  # noqa: E402

SEVERITY_WEIGHTS = {"info": 5, "low": 6, "medium": 4, "high": 2, "critical": 1}
SUMMARIES = ["Door forced open", "Motion after hours", "Badge refused", "Tailgating"]


def publish_history(tenants: list[Activity]) -> None:
    """A day of activity per tenant through the API, in time order: 96 steps of
    15 minutes, each with a metrics reading and sometimes events and alerts."""
    rng = random.Random(7)
    severities = list(SEVERITY_WEIGHTS)
    weights = list(SEVERITY_WEIGHTS.values())
    for step in range(96):
        for number, tenant in enumerate(tenants):
            wave = math.sin(step / 8 + 2 * number)
            tenant.metrics(
                cpu=round(45 + 25 * wave + rng.uniform(-5, 5), 1),
                queue=max(0, int(6 + 5 * wave + rng.uniform(-2, 2))),
            )
            # Busier in the last two hours, as if something were going on.
            busy = 3 if step >= 88 else 1
            for _ in range(rng.randint(0, busy)):
                severity = rng.choices(severities, weights)[0]
                event = tenant.security_event(rng.choice(SUMMARIES), severity)
                if rng.random() < 0.4:
                    tenant.detection(event["id"])
            if rng.random() < 0.15 * busy:
                severity = rng.choices(severities, weights)[0]
                thing = rng.choice(["disk", "backup", "VPN", "NVR"])
                tenant.alert(f"Check {thing} ({step})", severity)


def spread_over_the_day(database: Path) -> None:
    """Give the published events times over the last day, in id order: the
    96 steps become 96 quarters of an hour."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(database) as connection:
        rows = [
            (int(event_id), str(data))
            for event_id, data in connection.execute(
                "SELECT id, type FROM events ORDER BY id"
            )
        ]
        metrics_seen = 0
        for event_id, kind in rows:
            if kind == "metrics_update":
                metrics_seen += 1
            # Each tenant's reading opens a step; everything after it belongs to it.
            step = (metrics_seen - 1) // 2
            at = now - timedelta(minutes=15 * (95 - step)) - timedelta(minutes=1)
            connection.execute(
                "UPDATE events SET created_at = ? WHERE id = ?",
                (at.strftime("%Y-%m-%d %H:%M:%S.%f"), event_id),
            )


def gpu_readings(tenant: Activity) -> None:
    """A dozen GPU readings (volatile: they draw the sparklines of an open page)."""
    for step in range(12):
        tenant.gpu(
            round(40 + 30 * math.sin(step / 2), 1),
            round(55 + 8 * math.sin(step / 3), 1),
            "RTX A2000",
        )


def capture(browser: Any, url: str, member: Any, name: str, **options: Any) -> None:
    """Sign in as ``member`` and save ``name``.png."""
    page = open_dashboard(browser, url, member, width=options.get("width", 1280))
    if options.get("tenant"):
        page.select_option("#filter-tenant", str(options["tenant"]))
        page.wait_for_selector('[data-status="connected"]')
    page.wait_for_selector("#events-panel[data-stale=false]")
    page.wait_for_selector("#system-panel[data-stale=false]")
    for tenant in options.get("gpus", []):
        gpu_readings(tenant)
    if options.get("range"):
        page.click(f'#range button[data-range="{options["range"]}"]')
    page.wait_for_timeout(2500)  # the history loaded and the charts drawn
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}.png"), full_page=True)
    page.close()


def main() -> None:
    """Start the server, publish, back-date, take the pictures."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "switchboard.db"
        env = base_env(f"sqlite:///{database}", {"TEST_LOG_DIR": directory})
        seed = prepare_database(env)
        server = ServerProcess(env).start()
        try:
            world = build_world(server.url, seed)
            a = Activity(world, world.key_a, world.tenant_a["id"])
            b = Activity(world, world.key_b, world.tenant_b["id"])
            publish_history([a, b])
            spread_over_the_day(database)
            session_id = a.session("Quarterly review")
            member = SocketRecorder().connect(server.url, world.user_a.access_token)
            member.call("join_session", {"session_id": session_id})
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_FLAGS
                )
                a.camera("lobby", "online")
                a.camera("dock", "offline", "no signal")
                b.camera("gate", "online")
                a.agent_run(world.user_a.id, "Correlating the badge refusals")
                capture(
                    browser, server.url, world.msp_user, "dashboard-msp", gpus=[a, b]
                )
                capture(browser, server.url, world.user_a, "dashboard-client", gpus=[a])
                capture(
                    browser,
                    server.url,
                    world.admin,
                    "dashboard-admin",
                    tenant=world.tenant_b["id"],
                    range="day",
                    gpus=[b],
                )
                capture(
                    browser,
                    server.url,
                    world.msp_user,
                    "dashboard-msp-phone",
                    width=390,
                )
                browser.close()
            member.disconnect()
        finally:
            server.stop()
    print(f"screenshots in {DOCS_SCREENSHOTS}")


if __name__ == "__main__":
    main()
