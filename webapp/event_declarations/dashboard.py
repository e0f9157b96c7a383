"""The /dashboard namespace's events (docs/dashboard.md)."""

from __future__ import annotations

from webapp.event_payloads import DashboardAlert, Intervention, MetricsUpdate, Snapshot
from webapp.event_type import SERVER_ONLY, EventType

DECLARED: tuple[EventType, ...] = (
    EventType(
        "/dashboard",
        "metrics_update",
        MetricsUpdate,
        "Fresh operational metrics pushed by an integration.",
        example={"metrics": {"cpu": 0.42, "queue_depth": 3}},
    ),
    EventType(
        "/dashboard",
        "alert",
        DashboardAlert,
        "A dashboard alert was raised or changed status (stored ones carry "
        "alert_id; /api/dashboard/alerts raises them).",
        example={
            "alert_id": 4,
            "severity": "critical",
            "title": "Disk full",
            "message": "/var 98%",
            "status": "open",
        },
    ),
    EventType(
        "/dashboard",
        "intervention",
        Intervention,
        "An intervention was created or changed status.",
        example={"intervention": {"id": 2, "title": "Call back", "status": "open"}},
    ),
    EventType(
        "/dashboard",
        "analytics_update",
        Snapshot,
        "A full analytics snapshot: on connect, on refresh and periodically while "
        "someone watches; volatile.",
        persisted=False,
        targets=frozenset({"tenant", "msp"}),
        publishers=SERVER_ONLY,
        example={
            "tenant_id": 1,
            "scope": "msp",
            "generated_at": "2026-11-21T08:00:00Z",
            "totals": {"open_alerts": 1, "open_interventions": 0},
            "tenants": [{"tenant_id": 2, "name": "Acme", "open_alerts": 1}],
        },
    ),
)
