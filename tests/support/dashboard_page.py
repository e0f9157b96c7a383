"""Helpers for the dashboard page's browser tests: sign in, publish a tenant's
activity over REST the way integrations do, and save screenshots."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.server import ROOT
from tests.support.world import Member, World

ARTIFACTS = ROOT / "test-artifacts"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"


def open_dashboard(browser: Any, url: str, member: Member, width: int = 1280) -> Any:
    """A new page signed in as ``member``, with the main socket connected."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": width, "height": 900})
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(url + "/")
    page.fill('#login-form input[name="email"]', member.email)
    page.fill('#login-form input[name="password"]', member.password)
    page.click('#login-form button[type="submit"]')
    expect(page.locator('[data-testid="connection-indicator"]')).to_have_attribute(
        "data-status", "connected"
    )
    expect(page.locator("#who")).to_contain_text(member.role)
    return page


def ok(response: Any, status: int) -> dict[str, Any]:
    """Assert the status and return the JSON body."""
    assert response.status_code == status, response.text
    return dict(response.json()) if response.content else {}


class Activity:
    """One tenant's integration (its API key) publishing over REST."""

    def __init__(self, world: World, key: str, tenant_id: int) -> None:
        self.api = world.api(key)
        self.tenant_id = tenant_id
        self.tag = uuid.uuid4().hex[:6]

    def alert(self, title: str, severity: str = "high") -> int:
        """Raise a stored alert; returns its id."""
        body = {"title": title, "severity": severity}
        created = ok(self.api.post("/api/dashboard/alerts", json=body), 201)
        return int(created["alert_id"])

    def security_event(self, summary: str, severity: str = "high") -> dict[str, Any]:
        """A security event (``new_event``); returns the record with its log id."""
        body = {"summary": summary, "severity": severity, "source": "front-door"}
        return ok(self.api.post("/api/events", json=body), 201)

    def detection(self, event_id: int, label: str = "person") -> dict[str, Any]:
        """A detection on a security event."""
        body = {"event_id": event_id, "label": label, "confidence": 0.91}
        return ok(self.api.post("/api/detections", json=body), 201)

    def metrics(self, **values: float) -> int:
        """A ``metrics_update`` through the publish API; returns its event id."""
        body = {
            "namespace": "/dashboard",
            "event": "metrics_update",
            "data": {"metrics": values},
            "target": {"tenant": self.tenant_id},
        }
        return int(ok(self.api.post("/api/publish", json=body), 202)["id"])

    def gpu(self, utilization: float, temperature: float, name: str) -> None:
        """One GPU reading."""
        gpu = {
            "index": 0,
            "host": f"nvr-{self.tag}",
            "name": name,
            "utilization": utilization,
            "memory_used": 2048,
            "memory_total": 8192,
            "temperature": temperature,
            "power": 40.0,
        }
        ok(self.api.post("/api/system/gpu-stats", json={"gpus": [gpu]}), 202)

    def camera(self, camera_id: str, status: str, detail: str = "") -> None:
        """A camera status report."""
        path = f"/api/system/cameras/{camera_id}/status"
        ok(self.api.put(path, json={"status": status, "detail": detail}), 200)

    def session(self, title: str) -> int:
        """A collaboration session; returns its id."""
        return int(ok(self.api.post("/api/sessions", json={"title": title}), 201)["id"])

    def agent_run(self, user_id: int, thought: str) -> int:
        """Start an agent run for a user and post one thinking step."""
        run = ok(self.api.post("/api/agent-runs", json={"user_id": user_id}), 201)
        step = {"type": "agent_thinking", "data": {"thought": thought}}
        ok(self.api.post(f"/api/agent-runs/{run['id']}/events", json=step), 202)
        return int(run["id"])


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot in test-artifacts/ (the README's pictures are
    made by docs/screenshots/capture.py)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
