"""Periodic jobs of a serving process (pruning, the connection audit)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from webapp.extensions import db, get_socketio

logger = logging.getLogger(__name__)


def run_periodically(
    app: Flask, interval: float, job: Callable[[], object], what: str
) -> None:
    """Run ``job`` every ``interval`` seconds in an app context, in the background.

    A failing run (the database may be down) is logged in one line and rolled
    back; the next run tries again.
    """
    sio = get_socketio(app)

    def loop() -> None:
        while True:
            sio.sleep(interval)
            with app.app_context():
                try:
                    job()
                except Exception as exc:  # keep the loop alive
                    logger.warning("%s failed (%s); retrying later", what, exc)
                    db.session.rollback()

    sio.start_background_task(loop)
