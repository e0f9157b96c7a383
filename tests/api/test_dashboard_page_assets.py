"""The page's vendored browser libraries are served by the app, and nothing else
from node_modules is."""

from __future__ import annotations

import requests

from tests.conftest import LiveServer


def test_chartjs_bundle_is_served_from_node_modules(server: LiveServer) -> None:
    response = requests.get(
        server.url + "/vendor/chart.js/chart.umd.min.js", timeout=10
    )
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert b"Chart.js v4.6.1" in response.content[:400]
    page = requests.get(server.url + "/", timeout=10).text
    assert '<script src="/vendor/chart.js/chart.umd.min.js"></script>' in page
    assert 'data-alert-action-roles="admin integration msp"' in page


def test_other_node_modules_files_are_404_with_the_error_shape(
    server: LiveServer,
) -> None:
    for name in ("package.json", "chart.js", "..%2F..%2Fpackage.json", "helpers.js"):
        response = requests.get(server.url + f"/vendor/chart.js/{name}", timeout=10)
        assert response.status_code == 404, name
        assert response.json()["error"]["code"] in {
            "client_bundle_missing",
            "not_found",
        }
