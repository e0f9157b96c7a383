"""The Socket.IO Admin UI: off by default, on only with credentials, served locally.

Live servers with ``ADMIN_UI=1``; the ``/admin`` namespace is exercised with a
real ``socketio.Client`` (what the UI runs in the browser); the browser itself is
in tests/clients/test_admin_ui_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

from tests.support.ops import (
    ADMIN_PASSWORD,
    ADMIN_UI_ENV,
    ADMIN_USERNAME,
    AdminClient,
    admin_refusal,
    scrape,
    value,
)
from tests.support.server import (
    PYTHON,
    ROOT,
    LiveServer,
    ServerFactory,
    ServerProcess,
    base_env,
    prepare_database,
)
from tests.support.sockets import SocketFactory, SocketRecorder, connect_refusal
from tests.support.world import World, build_world

CREDENTIALS = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}


@pytest.fixture(scope="module")
def admin_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with the Admin UI on, for the module (tests build their own world)."""
    directory = tmp_path_factory.mktemp("admin-ui")
    env = base_env(
        f"sqlite:///{directory / 'switchboard.db'}",
        {**ADMIN_UI_ENV, "TEST_LOG_DIR": str(directory)},
    )
    seed = prepare_database(env)
    process = ServerProcess(env).start()
    yield LiveServer(process, seed, env)
    process.stop()


def test_admin_ui_is_off_by_default(world: World) -> None:
    page = requests.get(world.url + "/socketio-admin/", timeout=10)
    assert page.status_code == 404
    assert page.json()["error"]["code"] == "not_found"
    refusal = admin_refusal(world.url, CREDENTIALS)
    assert refusal["message"] == "unknown_namespace"


def test_admin_ui_without_credentials_stays_off(server_factory: ServerFactory) -> None:
    live = server_factory({"ADMIN_UI": "1", "ADMIN_UI_USERNAME": ADMIN_USERNAME})
    assert requests.get(live.url + "/socketio-admin/", timeout=10).status_code == 404
    assert admin_refusal(live.url, CREDENTIALS)["message"] == "unknown_namespace"
    assert "ADMIN_UI=1 ignored" in live.process.log()


def run_wsgi(env: dict[str, str]) -> tuple[int, list[str]]:
    """Start ``python wsgi.py``; it must exit: (code, meaningful stderr lines)."""
    import subprocess

    result = subprocess.run(
        [PYTHON, "wsgi.py"],
        cwd=ROOT,
        env=dict(env, PORT="1", HOST="127.0.0.1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.startswith("switchboard:") or "Traceback" in line
    ]
    return result.returncode, lines


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Otherwise complete production settings with the Admin UI on."""
    env = base_env(
        f"sqlite:///{tmp_path / 'prod.db'}",
        {
            "APP_CONFIG": "production",
            "CORS_ALLOWED_ORIGINS": "https://ops.example",
            "ADMIN_UI": "1",
        },
    )
    env.pop("PASSWORD_HASH_PROFILE")
    env.update(extra)
    return env


def test_production_refuses_admin_ui_without_credentials(tmp_path: Path) -> None:
    code, lines = run_wsgi(production_env(tmp_path, ADMIN_UI_USERNAME="ops"))
    assert code == 2
    assert len(lines) == 1, lines
    assert "ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD" in lines[0]


def test_production_refuses_a_short_admin_ui_password(tmp_path: Path) -> None:
    env = production_env(tmp_path, ADMIN_UI_USERNAME="ops", ADMIN_UI_PASSWORD="short")
    code, lines = run_wsgi(env)
    assert code == 2
    assert len(lines) == 1 and "ADMIN_UI_PASSWORD must be at least" in lines[0]


def test_the_page_and_its_assets_are_served_here(admin_ui: LiveServer) -> None:
    response = requests.get(admin_ui.url + "/socketio-admin/", timeout=10)
    assert response.status_code == 200
    html = response.text
    assert "Socket.IO Admin UI" in html
    # Nothing the page loads comes from another host.
    references = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert references and not [ref for ref in references if "//" in ref]
    for ref in references:
        asset = requests.get(admin_ui.url + "/socketio-admin/" + ref, timeout=10)
        assert asset.status_code == 200, ref
    icons = requests.get(
        admin_ui.url + "/socketio-admin/mdi/css/materialdesignicons.min.css", timeout=10
    ).text
    fonts = set(re.findall(r'url\("\.\./fonts/([^"?#]+)', icons))
    assert "materialdesignicons-webfont.woff2" in fonts
    for font in fonts:
        url = admin_ui.url + "/socketio-admin/mdi/fonts/" + font
        assert requests.get(url, timeout=10).status_code == 200, font
    # Only the UI's own files: nothing else under node_modules.
    for path in ("/socketio-admin/../package.json", "/socketio-admin/dist/index.js"):
        missing = requests.get(admin_ui.url + path, timeout=10)
        assert missing.status_code == 404, path
        assert missing.json()["error"]["code"] == "not_found"


def test_admin_namespace_refuses_wrong_credentials_and_tenant_tokens(
    admin_ui: LiveServer,
) -> None:
    world = build_world(admin_ui.url, admin_ui.seed)
    failures = "switchboard_login_failures_total"
    labels = {"endpoint": "admin_ui", "reason": "invalid_credentials"}
    assert value(scrape(admin_ui.url), failures, **labels) == 0
    wrong = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD + "x"}
    assert admin_refusal(admin_ui.url, wrong)["message"] == "authentication failed"
    # A tenant's (or even the platform admin's) token opens nothing here.
    for token in (world.user_a.access_token, world.admin.access_token):
        refusal = admin_refusal(admin_ui.url, {"token": token})
        assert refusal["message"] == "please log in"
    assert admin_refusal(admin_ui.url, None)["message"] == "please log in"
    assert value(scrape(admin_ui.url), failures, **labels) == 1


def test_admin_namespace_sees_live_sockets_and_their_rooms(
    admin_ui: LiveServer, sockets: SocketFactory
) -> None:
    world = build_world(admin_ui.url, admin_ui.seed)
    client = sockets().connect(admin_ui.url, world.user_a.access_token)
    client.wait_for("welcome")
    sid = client.client.get_sid("/engagement")
    admin = AdminClient().connect(admin_ui.url, CREDENTIALS)
    try:
        (listed,) = admin.wait_for("all_sockets")
        (socket,) = [s for s in listed if s["id"] == sid]
        assert socket["nsp"] == "/engagement"
        assert f"tenant:{world.tenant_a['id']}" in socket["rooms"]
        (config,) = admin.wait_for("config")
        # Read-only unless ADMIN_UI_READ_ONLY=0: no emit/join/disconnect.
        assert "EMIT" not in config["supportedFeatures"]
        # A client that connects now is reported live, as is its leaving.
        late = sockets().connect(admin_ui.url, world.user_b.access_token)
        late_sid = late.client.get_sid("/engagement")
        admin.wait_for("socket_connected", lambda args: args[0]["id"] == late_sid)
        late.disconnect()
        admin.wait_for("socket_disconnected", lambda args: args[1] == late_sid)
        stats = admin.wait_for("server_stats")[0]
        assert stats["serverId"].endswith(f":{stats['pid']}")
    finally:
        admin.disconnect()


def test_read_only_admin_cannot_emit_into_a_tenant_room(
    admin_ui: LiveServer, sockets: SocketFactory
) -> None:
    world = build_world(admin_ui.url, admin_ui.seed)
    client = sockets().connect(admin_ui.url, world.user_a.access_token)
    client.wait_for("welcome")
    admin = AdminClient().connect(admin_ui.url, CREDENTIALS)
    try:
        admin.wait_for("config")
        room = f"tenant:{world.tenant_a['id']}"
        forged = {"id": 1, "data": {"title": "forged"}}
        admin.client.emit("emit", ("/engagement", room, "alert", forged), "/admin")
        admin.client.emit("_disconnect", ("/engagement", False, room), "/admin")
        with pytest.raises(AssertionError):
            client.wait_for("alert", timeout=1.5)
        assert client.client.connected
    finally:
        admin.disconnect()


def test_a_refused_connect_is_reported_gone_not_left_listed(
    admin_ui: LiveServer,
) -> None:
    """python-socketio announces a socket before its connect handler refuses it."""
    admin = AdminClient().connect(admin_ui.url, CREDENTIALS)
    try:
        admin.wait_for("config")
        refused = SocketRecorder()
        with pytest.raises(socketio.exceptions.ConnectionError):
            refused.client.connect(
                admin_ui.url,
                namespaces=["/engagement"],
                auth={"token": "not-a-token"},
                transports=["websocket"],
                wait_timeout=5,
            )
        refused.disconnect()
        (socket, _when) = admin.wait_for(
            "socket_connected", lambda args: args[0]["nsp"] == "/engagement"
        )
        sid = socket["id"]
        gone = admin.wait_for("socket_disconnected", lambda args: args[1] == sid)
        assert gone[0] == "/engagement" and gone[2] == "connection refused"
    finally:
        admin.disconnect()


def test_production_mode_reports_counts_only_and_refuses_cleanly(
    server_factory: ServerFactory,
) -> None:
    live = server_factory({**ADMIN_UI_ENV, "ADMIN_UI_MODE": "production"})
    world = build_world(live.url, live.seed)
    admin = AdminClient().connect(live.url, CREDENTIALS)
    try:
        (config,) = admin.wait_for("config")
        assert "ALL_EVENTS" not in config["supportedFeatures"]
        # A refused connect is refused as without the UI (no socket list to fix).
        assert connect_refusal(live.url, {"token": "nope"})["message"] == (
            "invalid_token"
        )
        client = SocketRecorder().connect(live.url, world.user_a.access_token)
        client.wait_for("welcome")
        client.disconnect()
        admin.wait_for("server_stats")
        assert "socket_connected" not in {name for name, _ in admin.events}
    finally:
        admin.disconnect()
    assert "Traceback" not in live.process.log()
