"""/dashboard analytics: the snapshot on connect, refresh, ping, bounded queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from tests.support.sockets import SocketRecorder
from tests.support.world import World
from webapp.extensions import db
from webapp.models import Tenant
from webapp.services.dashboard import analytics

DASH = "/dashboard"
SEVERITIES = ("info", "low", "medium", "high", "critical")


def severities(**counts: int) -> dict[str, int]:
    """A full by-severity dict with the given non-zero counts."""
    return {level: counts.get(level, 0) for level in SEVERITIES}


def publish(
    world: World,
    key: str,
    namespace: str,
    name: str,
    data: dict[str, Any],
    tenant_id: int,
) -> None:
    """POST /api/publish with an API key (security events via POST /api/events)."""
    if (namespace, name) == ("/events", "new_event"):
        response = world.api(key).post(
            "/api/events", json={**data, "source": "test", "tenant_id": tenant_id}
        )
        assert response.status_code in (201, 202), response.text
        return
    response = world.api(key).post(
        "/api/publish",
        json={
            "namespace": namespace,
            "event": name,
            "data": data,
            "target": {"tenant": tenant_id},
        },
    )
    assert response.status_code == 202, response.text


def raise_alert(world: World, key: str, title: str, severity: str = "high") -> int:
    """Create an alert over REST; return its id."""
    response = world.api(key).post(
        "/api/dashboard/alerts", json={"title": title, "severity": severity}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["alert_id"])


def add_intervention(world: World, key: str, title: str) -> int:
    """Create an intervention over REST; return its id."""
    response = world.api(key).post(
        "/api/dashboard/interventions", json={"title": title}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def set_status(world: World, key: str, kind: str, item_id: int, status: str) -> None:
    """PATCH an alert or intervention status."""
    response = world.api(key).patch(
        f"/api/dashboard/{kind}/{item_id}", json={"status": status}
    )
    assert response.status_code == 200, response.text


def known_activity(world: World) -> None:
    """A known set of REST actions for tenants A and B (numbers asserted below)."""
    a, b = world.tenant_a["id"], world.tenant_b["id"]
    # A: 3 alerts (open, acknowledged, resolved); B: 1 open alert.
    raise_alert(world, world.key_a, "still open")
    set_status(
        world,
        world.key_a,
        "alerts",
        raise_alert(world, world.key_a, "ack"),
        "acknowledged",
    )
    set_status(
        world,
        world.key_a,
        "alerts",
        raise_alert(world, world.key_a, "gone"),
        "resolved",
    )
    raise_alert(world, world.key_b, "b open", "critical")
    # A: 3 interventions (open, in_progress, done).
    add_intervention(world, world.key_a, "open one")
    started = add_intervention(world, world.key_a, "started")
    set_status(world, world.key_a, "interventions", started, "in_progress")
    finished = add_intervention(world, world.key_a, "finished")
    set_status(world, world.key_a, "interventions", finished, "in_progress")
    set_status(world, world.key_a, "interventions", finished, "done")
    # Events: A high x2, low x1; B critical x1.
    for severity in ("high", "high", "low"):
        publish(
            world,
            world.key_a,
            "/events",
            "new_event",
            {"severity": severity, "summary": "s"},
            a,
        )
    publish(
        world,
        world.key_b,
        "/events",
        "new_event",
        {"severity": "critical", "summary": "s"},
        b,
    )
    # A: two engagements (one archived later doesn't count), 3 interactions.
    staff = world.api(world.msp_user)
    engagements = []
    for title in ("onboarding", "audit", "old"):
        response = staff.post(
            "/api/engagements", json={"client_tenant_id": a, "title": title}
        )
        assert response.status_code == 201, response.text
        engagements.append(response.json()["id"])
    for engagement_id in (engagements[0], engagements[0], engagements[1]):
        response = staff.post(
            f"/api/engagements/{engagement_id}/interactions", json={"kind": "call"}
        )
        assert response.status_code in (200, 201, 202), response.text
    archived = staff.post(f"/api/engagements/{engagements[2]}/archive")
    assert archived.status_code == 200, archived.text


def first_snapshot(recorder: SocketRecorder) -> dict[str, Any]:
    """The analytics_update sent right after welcome."""
    (envelope,) = recorder.wait_for("analytics_update", namespace=DASH)
    return dict(envelope)


def test_snapshot_on_connect_has_the_tenants_numbers(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    known_activity(world)
    a = world.tenant_a["id"]
    sockets().connect(world.url, world.user_a.access_token, ["/events"])
    recorder = sockets().connect(world.url, world.user_a.access_token, [DASH])
    envelope = first_snapshot(recorder)
    names = [name for ns, name, _ in recorder.events if ns == DASH]
    assert names.index("welcome") < names.index("analytics_update")
    assert envelope["id"] is None
    assert envelope["room"] == f"tenant:{a}" and envelope["tenant_id"] == a
    snapshot = envelope["data"]
    assert snapshot["scope"] == "tenant" and snapshot["tenant_id"] == a
    expected = {
        "engagements": 2,
        "interactions": 3,
        "events_24h": severities(high=2, low=1),
        "open_alerts": 2,
        "unacknowledged_alerts": 1,
        "open_interventions": 2,
        "interventions_in_progress": 1,
    }
    assert {k: snapshot["totals"][k] for k in expected} == expected
    assert snapshot["totals"]["connections"] == {"/dashboard": 1, "/events": 1}
    assert [row["tenant_id"] for row in snapshot["tenants"]] == [a]


def test_msp_snapshot_aggregates_its_clients_and_lists_each(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    known_activity(world)
    msp, a, b = world.msp_tenant["id"], world.tenant_a["id"], world.tenant_b["id"]
    sockets().connect(world.url, world.user_a.access_token, [DASH])
    recorder = sockets().connect(world.url, world.msp_user.access_token, [DASH])
    envelope = first_snapshot(recorder)
    assert envelope["room"] == f"msp:{msp}"
    snapshot = envelope["data"]
    assert snapshot["scope"] == "msp"
    totals = snapshot["totals"]
    assert totals["open_alerts"] == 3 and totals["unacknowledged_alerts"] == 2
    assert totals["events_24h"] == severities(high=2, low=1, critical=1)
    assert totals["connections"] == {"/dashboard": 2}
    rows = {row["tenant_id"]: row for row in snapshot["tenants"]}
    assert set(rows) == {msp, a, b}
    assert rows[a]["open_alerts"] == 2 and rows[a]["interactions"] == 3
    assert rows[b]["open_alerts"] == 1 and rows[b]["events_24h"]["critical"] == 1
    assert rows[b]["engagements"] == 0 and rows[b]["open_interventions"] == 0
    assert rows[msp]["connections"] == {"/dashboard": 1}


def test_client_snapshot_never_contains_another_tenant(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    known_activity(world)
    b = world.tenant_b["id"]
    snapshot = first_snapshot(
        sockets().connect(world.url, world.user_b.access_token, [DASH])
    )["data"]
    assert [row["tenant_id"] for row in snapshot["tenants"]] == [b]
    assert snapshot["totals"]["open_alerts"] == 1
    assert snapshot["totals"]["events_24h"] == severities(critical=1)
    assert snapshot["totals"]["interactions"] == 0
    assert snapshot["totals"]["open_interventions"] == 0
    rest = world.api(world.user_b).get("/api/dashboard/analytics").json()
    assert rest["totals"]["open_alerts"] == 1 and rest["tenant_id"] == b


def test_refresh_is_acked_and_sends_a_fresh_snapshot(
    world: World, sockets: Callable[..., SocketRecorder]
) -> None:
    recorder = sockets().connect(world.url, world.user_a.access_token, [DASH])
    assert first_snapshot(recorder)["data"]["totals"]["open_alerts"] == 0
    raise_alert(world, world.key_a, "new")
    ack = recorder.call("refresh", {}, namespace=DASH)
    assert ack["ok"] is True and ack["analytics"]["totals"]["open_alerts"] == 1
    updates = recorder.wait_for("analytics_update", namespace=DASH, count=2)
    assert updates[1]["data"]["totals"]["open_alerts"] == 1


@pytest.mark.parametrize("clients", [2, 12])
def test_snapshot_uses_a_bounded_number_of_queries(app: Flask, clients: int) -> None:
    msp = Tenant(name="msp", kind="msp")
    db.session.add(msp)
    db.session.flush()
    db.session.add_all(
        Tenant(name=f"client-{i}", kind="client", parent_id=msp.id)
        for i in range(clients)
    )
    db.session.commit()
    msp_id = msp.id
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        snapshot = analytics.compute_snapshot(analytics.AnalyticsChannel("msp", msp_id))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(snapshot["tenants"]) == clients + 1
    # children, tenants, and one query per database contributor.
    assert len(statements) == 6, statements


@pytest.mark.postgres
def test_snapshot_queries_run_on_postgresql() -> None:
    """The JSON-path GROUP BY queries work on PostgreSQL too (own database, dropped)."""
    import os
    import uuid

    import psycopg2
    from sqlalchemy.engine import make_url

    from tests.conftest import require_service
    from webapp import create_app
    from webapp.models import Alert, Engagement, Event, InteractionCounter

    base = make_url(require_service("PostgreSQL", os.environ.get("TEST_POSTGRES_URL")))
    name = f"dashboard_{uuid.uuid4().hex[:10]}"

    def admin(sql: str) -> None:
        conn = psycopg2.connect(
            base.set(drivername="postgresql").render_as_string(False)
        )
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()

    admin(f'CREATE DATABASE "{name}"')
    try:
        app = create_app("testing")
        app.config["SQLALCHEMY_DATABASE_URI"] = base.set(
            database=name
        ).render_as_string(False)
        with app.app_context():
            db.create_all()
            msp = Tenant(name="m", kind="msp")
            db.session.add(msp)
            db.session.flush()
            client = Tenant(name="a", kind="client", parent_id=msp.id)
            db.session.add(client)
            db.session.flush()

            def log(namespace: str, kind: str, data: dict[str, Any]) -> Event:
                return Event(
                    tenant_id=client.id,
                    namespace=namespace,
                    room="r",
                    type=kind,
                    data=data,
                )

            db.session.add_all(
                [
                    log("/events", "new_event", {"severity": s, "summary": "x"})
                    for s in ("high", "high", "low")
                ]
                + [Alert(tenant_id=client.id, severity="high", title="t")]
            )
            engagements = [
                Engagement(msp_tenant_id=msp.id, client_tenant_id=client.id, title=t)
                for t in ("one", "two")
            ]
            db.session.add_all(engagements)
            db.session.flush()
            db.session.add(
                InteractionCounter(
                    engagement_id=engagements[0].id, kind="call", count=1
                )
            )
            db.session.commit()
            totals = analytics.compute_snapshot(
                analytics.AnalyticsChannel("msp", msp.id)
            )["totals"]
            db.session.remove()
            db.engine.dispose()
        assert totals["events_24h"] == severities(high=2, low=1)
        assert (totals["engagements"], totals["interactions"]) == (2, 1)
        assert totals["open_alerts"] == 1
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}"')
