"""The Socket.IO Admin UI: python-socketio's instrumentation plus the UI, served here.

With ``ADMIN_UI=1`` and both ``ADMIN_UI_USERNAME`` and ``ADMIN_UI_PASSWORD`` set,
the server is instrumented (``sio.instrument``, public API) on the ``/admin``
namespace and ``@socket.io/admin-ui``'s built UI (npm, pinned in package.json) is
served at ``/socketio-admin/``, preset to this server, with its icon font from
npm too: nothing is fetched from the internet. Without credentials it stays off
(production refuses to start, ``config.production_problems``).

With a message queue every process is instrumented and reports through the
queue, so the UI connected to any one process sees the sockets of all.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import re
from typing import Any

import socketio
from flask import Blueprint, Flask, Response

from config import ConfigurationError
from webapp import metrics
from webapp.engine.admin_ui import forget_refused_connects
from webapp.errors import DependencyDown, NotFound
from webapp.vendor import node_module_dir, send_vendored

logger = logging.getLogger(__name__)

PREFIX = "/socketio-admin"
ADMIN_NAMESPACE = "/admin"  # python-socketio's default, which the UI expects
# python-socketio's reporting modes: "production" sends no socket list or events.
ADMIN_UI_MODES = ("development", "production")
bp = Blueprint("admin_ui", __name__, url_prefix=PREFIX)

# What the UI's index.html loads: its own css/js/img, and the Material Design icon
# font its page took from a CDN. Nothing else under node_modules is served.
UI_FOLDERS = frozenset({"css", "js", "img"})
ICON_FOLDERS = frozenset({"css", "fonts"})
# The UI's index.html pulls Roboto from Google Fonts and the icons from jsDelivr.
EXTERNAL_STYLESHEET = re.compile(r'<link[^>]*href="(?:https?:)?//[^"]*"[^>]*>')
LOCAL_HEAD = (
    '<link rel="stylesheet" href="mdi/css/materialdesignicons.min.css">'
    '<script src="switchboard-preset.js"></script>'
)
# Runs before the UI reads localStorage: its connection form then shows this
# server, its Socket.IO path and the /admin namespace (the operator may change them).
PRESET_SCRIPT = """(function () {
  if (!localStorage.getItem("server_url")) {
    localStorage.setItem("server_url", window.location.origin);
    localStorage.setItem("namespace", "/admin");
    localStorage.setItem("path", "/socket.io");
  }
})();
"""


class AdminCredentials:
    """The Admin UI's login check (constant-time; failures are counted)."""

    def __init__(self, username: str, password: str) -> None:
        self._username = username.encode()
        self._password = password.encode()

    def __call__(self, auth: Any) -> bool:
        """True when ``auth`` carries the configured username and password."""
        if not isinstance(auth, dict):
            auth = {}
        if "username" not in auth and "password" not in auth:
            # The UI first tries to resume a session (``sessionId``), which
            # python-socketio does not keep: ask for the login, count nothing.
            raise socketio.exceptions.ConnectionRefusedError("please log in")
        username = str(auth.get("username") or "").encode()
        password = str(auth.get("password") or "").encode()
        # Both compared every time: the answer's timing tells nothing.
        ok_user = hmac.compare_digest(username, self._username)
        ok_password = hmac.compare_digest(password, self._password)
        if ok_user and ok_password:
            return True
        metrics.login_failed("invalid_credentials", endpoint="admin_ui")
        return False


def init_admin_ui(app: Flask, sio: socketio.Server) -> None:
    """Instrument ``sio`` and serve the UI when ADMIN_UI is on with credentials."""
    config = app.config
    if not config["ADMIN_UI"]:
        return
    username, password = config["ADMIN_UI_USERNAME"], config["ADMIN_UI_PASSWORD"]
    if not (username and password):
        logger.warning(
            "ADMIN_UI=1 ignored: set ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD"
        )
        return
    if config["ADMIN_UI_MODE"] not in ADMIN_UI_MODES:
        raise ConfigurationError(
            "ADMIN_UI_MODE must be one of " + ", ".join(ADMIN_UI_MODES)
        )
    sio.instrument(
        auth=AdminCredentials(username, password),
        mode=config["ADMIN_UI_MODE"],
        read_only=config["ADMIN_UI_READ_ONLY"],
        server_id=metrics.process_id(),
        namespace=ADMIN_NAMESPACE,
    )
    if config["ADMIN_UI_MODE"] == "development":  # the mode that lists sockets
        forget_refused_connects(sio, ADMIN_NAMESPACE)
    quiet_admin_reports(sio)
    app.register_blueprint(bp)


def quiet_admin_reports(sio: socketio.Server) -> None:
    """A report to the UI that cannot be sent never fails what it reports on.

    With a message queue the instrumentation emits to ``/admin`` through Redis
    from inside connects, disconnects and every emit, and from its stats task:
    while Redis is down such a report would raise, turning a clean
    ``dependency_unavailable`` refusal into a dropped transport and ending the
    stats task for good. Reports are dropped instead; other emits are untouched.
    """
    emit = sio.emit

    def emit_or_drop(event: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("namespace") != ADMIN_NAMESPACE:
            return emit(event, *args, **kwargs)
        try:
            return emit(event, *args, **kwargs)
        except DependencyDown:
            return None  # the UI misses this report; the server carries on

    sio.emit = emit_or_drop  # type: ignore[method-assign]


def ui_dist_dir() -> str:
    """Where ``npm ci`` put the Admin UI's built files."""
    return node_module_dir("@socket.io", "admin-ui", "ui", "dist")


def icons_dir() -> str:
    """Where ``npm ci`` put the Material Design icon font."""
    return node_module_dir("@mdi", "font")


def _missing() -> NotFound:
    return NotFound(
        "@socket.io/admin-ui is not installed here; run `make node`",
        code="admin_ui_missing",
    )


@functools.cache
def _index_html(path: str, mtime: float) -> str:
    """The UI's index.html with its CDN stylesheets replaced by local ones."""
    with open(path, encoding="utf-8") as page:
        html = EXTERNAL_STYLESHEET.sub("", page.read())
    return html.replace("</head>", LOCAL_HEAD + "</head>", 1)


@bp.get("/")
def index() -> Response:
    """The Admin UI's page, preset to connect to this server's /admin namespace."""
    path = os.path.join(ui_dist_dir(), "index.html")
    if not os.path.isfile(path):
        raise _missing()
    html = _index_html(path, os.path.getmtime(path))
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-cache"})


@bp.get("/switchboard-preset.js")
def preset() -> Response:
    """The script that presets the UI's connection form to this server."""
    return Response(PRESET_SCRIPT, mimetype="text/javascript")


@bp.get("/favicon.png")
def favicon() -> Response:
    """The UI's icon."""
    return _send(ui_dist_dir(), "favicon.png")


@bp.get("/<folder>/<path:name>")
def ui_file(folder: str, name: str) -> Response:
    """The UI's built css, js and images."""
    if folder not in UI_FOLDERS:
        raise NotFound("no such file", code="not_found")
    return _send(ui_dist_dir(), f"{folder}/{name}")


@bp.get("/mdi/<folder>/<path:name>")
def icon_file(folder: str, name: str) -> Response:
    """The Material Design icon font (its css and font files)."""
    if folder not in ICON_FOLDERS:
        raise NotFound("no such file", code="not_found")
    return _send(icons_dir(), f"{folder}/{name}")


def _send(directory: str, name: str) -> Response:
    return send_vendored(directory, name, "@socket.io/admin-ui", "admin_ui_missing")
