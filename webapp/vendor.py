"""Front-end packages installed by npm (package.json), served by the app: no CDN."""

from __future__ import annotations

import os
from collections.abc import Collection

from flask import Response, current_app, send_from_directory

from webapp.errors import NotFound


def node_module_dir(*parts: str) -> str:
    """A folder inside the app's node_modules (next to the webapp package)."""
    return os.path.join(os.path.dirname(current_app.root_path), "node_modules", *parts)


def send_vendored(
    directory: str,
    name: str,
    package: str,
    code: str,
    allowed: Collection[str] | None = None,
) -> Response:
    """Send ``name`` from a package's folder; 404 (``code``) if absent or not allowed.

    ``allowed`` lists the only files that may be served from that folder, so nothing
    else under node_modules is reachable; without it, the folder is served as a
    whole (``send_from_directory`` still refuses paths that leave it).
    """
    if allowed is not None and name not in allowed:
        raise NotFound("no such file", code="not_found")
    if not os.path.isdir(directory) or (
        allowed is not None and not os.path.isfile(os.path.join(directory, name))
    ):
        raise NotFound(f"{package} is not installed here; run `make node`", code=code)
    return send_from_directory(directory, name, max_age=3600)
