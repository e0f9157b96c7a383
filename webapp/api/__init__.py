"""REST blueprints."""

from __future__ import annotations

from flask import Flask

from webapp import views
from webapp.api import (
    agent_runs,
    apidocs,
    auth,
    dashboard,
    engagements,
    history,
    ops,
    publish,
    security,
    sessions,
    system,
    tenants,
    users,
    webhooks,
)
from webapp.api.openapi import document_routes

BLUEPRINTS = (
    auth.bp,
    tenants.bp,
    users.bp,
    publish.bp,
    history.bp,
    ops.bp,
    engagements.bp,
    sessions.bp,
    security.bp,
    agent_runs.bp,
    system.bp,
    dashboard.bp,
    webhooks.bp,
    views.bp,
    apidocs.bp,
)


def register_blueprints(app: Flask) -> None:
    """Register every REST blueprint."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    document_routes(app)  # once every route exists
