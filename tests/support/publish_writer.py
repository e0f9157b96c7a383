"""In-process publishing through the group writer: an app on a SQLite file, helpers.

``file_app`` is an app whose database is a file (the group writer runs only off
in-memory SQLite); ``publish_alert`` publishes one alert through it and
``alert_request`` builds a checked request for ``log_writer.process``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from config import TestingConfig
from webapp import create_app
from webapp.event_registry import get_event_type
from webapp.extensions import db
from webapp.models import Tenant
from webapp.services.delivery import publish_request, publisher


@pytest.fixture
def file_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An in-process app (threading mode) on a SQLite file, so the writer runs."""
    import config as config_module

    class FileConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'group.db'}"

    monkeypatch.setitem(config_module.config, "group-test", FileConfig)
    app = create_app("group-test")
    with app.app_context():
        db.create_all()
        db.session.add_all(
            [Tenant(name="one", kind="client"), Tenant(name="two", kind="client")]
        )
        db.session.commit()
        yield app
        db.session.remove()


def publish_alert(
    app: Flask, tenant_id: int, title: str, key: str | None = None
) -> Any:
    """Publish one ``alert`` to a tenant's room through ``app``'s group writer."""
    with app.app_context():
        return publisher.publish_to_room(
            "/engagement",
            "alert",
            {"title": title, "severity": "low"},
            f"tenant:{tenant_id}",
            tenant_id,
            key,
        )


def alert_request(tenant_id: int, title: str, key: str | None = None) -> Any:
    """A checked ``alert`` request for ``log_writer.process``."""
    alert = get_event_type("/engagement", "alert")
    data = {"title": title, "severity": "low", "message": None, "engagement_id": None}
    digest = (
        publish_request.request_hash(alert, f"tenant:{tenant_id}", data)
        if key
        else None
    )
    return publish_request.PublishRequest(
        alert, data, f"tenant:{tenant_id}", tenant_id, key, digest
    )
