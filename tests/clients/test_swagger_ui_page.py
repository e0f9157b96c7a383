"""GET /docs: Swagger UI, served by the app from npm's swagger-ui-dist, in Chromium."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import LiveServer
from tests.support.server import ROOT

ARTIFACTS = ROOT / "test-artifacts"


@pytest.mark.browser
def test_docs_page_renders_every_operation_from_local_assets(
    server: LiveServer, browser: Any
) -> None:
    """Swagger UI lists the operations, loads nothing from another host."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    foreign: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(server.url) else foreign.append(request.url)
        ),
    )
    page.goto(f"{server.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Switchboard REST API"
    )
    publish = page.locator('.opblock-summary:has-text("/api/publish")').first
    expect(publish).to_be_visible()
    document = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    # Swagger UI draws the REST operations and, in their own section, the webhooks.
    operations = sum(
        len(item)
        for section in ("paths", "webhooks")
        for item in document[section].values()
    )
    expect(page.locator(".opblock")).to_have_count(operations)
    webhook = page.locator('.opblock-summary:has-text("session.occupied")').first
    expect(webhook).to_be_visible()
    expect(page.locator(".btn.authorize")).to_be_visible()  # the security schemes
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "openapi-docs.png"), full_page=False)
    page.close()
    assert foreign == [], "no CDN: every asset comes from the app"
    assert errors == []


def test_docs_assets_are_the_pinned_npm_package(server: LiveServer) -> None:
    """The bundle is swagger-ui-dist's file; other node_modules files are not served."""
    bundle = requests.get(
        f"{server.url}/vendor/swagger-ui/swagger-ui-bundle.js", timeout=10
    )
    installed = ROOT / "node_modules" / "swagger-ui-dist" / "swagger-ui-bundle.js"
    assert bundle.status_code == 200
    assert bundle.content == installed.read_bytes()
    for name in ("package.json", "..%2Fsocket.io%2Fpackage.json", "index.html"):
        refused = requests.get(f"{server.url}/vendor/swagger-ui/{name}", timeout=10)
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] in ("not_found", "docs_assets_missing")
