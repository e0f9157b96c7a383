"""Analytics snapshots for /dashboard, computed from the database.

A snapshot covers one *channel*: a client tenant (room ``tenant:<id>``), or an MSP
with its client tenants aggregated and per client (room ``msp:<id>``, MSP staff
only). Each section comes from a *contributor*: a function that takes the tenant
ids and returns counters per tenant with one GROUP BY query (or none), so the
number of queries is bounded whatever the number of tenants. Features add
sections by registering more contributors (``@contributor``); a later contributor
overrides the keys of an earlier one. Engagements and interactions come from the
engagements tables, events by severity from the event log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select

from webapp.auth.identity import Identity
from webapp.event_registry import get_event_type, validate_payload
from webapp.extensions import db
from webapp.models import (
    Alert,
    Engagement,
    Event,
    InteractionCounter,
    Intervention,
    Tenant,
)
from webapp.models.alert import ALERT_SEVERITIES
from webapp.models.time import isoformat, utcnow
from webapp.rooms import msp_room, tenant_room
from webapp.services.cluster import connections
from webapp.services.delivery import publisher, to_connection
from webapp.services.tenancy.visibility import child_tenant_ids

NAMESPACE = "/dashboard"
EVENT = "analytics_update"
WINDOW = timedelta(hours=24)

Counts = dict[str, Any]
# (tenant ids, start of the 24 h window) -> {tenant_id: {counter: value}}
Contributor = Callable[[Sequence[int], datetime], dict[int, Counts]]
CONTRIBUTORS: list[Contributor] = []


def contributor(func: Contributor) -> Contributor:
    """Register a snapshot section (decorator); keep it to one query."""
    CONTRIBUTORS.append(func)
    return func


@dataclass(frozen=True, order=True)
class AnalyticsChannel:
    """Whose snapshot a connection watches, and the room it is sent to."""

    kind: Literal["msp", "tenant"]
    tenant_id: int

    @property
    def room(self) -> str:
        """The room the periodic snapshot goes to."""
        if self.kind == "msp":
            return msp_room(self.tenant_id)
        return tenant_room(self.tenant_id)

    def tenant_ids(self) -> list[int]:
        """The tenants the snapshot covers."""
        if self.kind == "msp":
            return [self.tenant_id, *child_tenant_ids(self.tenant_id)]
        return [self.tenant_id]


def channel_for(
    identity: Identity, watched_tenant_id: int | None = None
) -> AnalyticsChannel:
    """MSP staff watch their MSP and its clients; everyone else one tenant.

    The MSP channel goes to ``msp:<id>`` (MSP staff only), so a client-role user
    of an MSP tenant never receives its client tenants' numbers.
    """
    if watched_tenant_id is not None:
        return AnalyticsChannel("tenant", watched_tenant_id)
    if identity.tenant_kind == "msp" and identity.role in (
        "msp",
        "admin",
        "integration",
    ):
        return AnalyticsChannel("msp", identity.tenant_id)
    return AnalyticsChannel("tenant", identity.tenant_id)


def empty_counts() -> Counts:
    """Every counter at zero, so a snapshot always has the same keys."""
    return {
        "engagements": 0,
        "interactions": 0,
        "events_24h": dict.fromkeys(ALERT_SEVERITIES, 0),
        "open_alerts": 0,
        "unacknowledged_alerts": 0,
        "open_interventions": 0,
        "interventions_in_progress": 0,
        "connections": {},
    }


def compute_snapshot(channel: AnalyticsChannel) -> dict[str, Any]:
    """The snapshot for a channel: totals plus one entry per tenant."""
    tenant_ids = channel.tenant_ids()
    tenants = db.session.execute(
        select(Tenant.id, Tenant.name, Tenant.kind).where(Tenant.id.in_(tenant_ids))
    ).all()
    per_tenant = {row.id: empty_counts() for row in tenants}
    since = utcnow() - WINDOW
    for section in CONTRIBUTORS:
        for tenant_id, counts in section(list(per_tenant), since).items():
            if tenant_id in per_tenant:
                per_tenant[tenant_id].update(counts)
    return {
        "tenant_id": channel.tenant_id,
        "scope": channel.kind,
        "room": channel.room,
        "generated_at": isoformat(utcnow()),
        "window_seconds": int(WINDOW.total_seconds()),
        "totals": _sum_counts(list(per_tenant.values())),
        "tenants": [
            {"tenant_id": row.id, "name": row.name, "kind": row.kind}
            | per_tenant[row.id]
            for row in sorted(tenants, key=lambda row: row.id)
        ],
    }


def send_snapshot(sid: str, channel: AnalyticsChannel) -> dict[str, Any]:
    """Send a fresh snapshot to one connection (on connect and on ``refresh``)."""
    data = compute_snapshot(channel)
    envelope = {
        "id": None,
        "type": EVENT,
        "namespace": NAMESPACE,
        "tenant_id": channel.tenant_id,
        "room": channel.room,
        "data": validate_payload(get_event_type(NAMESPACE, EVENT), data),
        "timestamp": data["generated_at"],
    }
    to_connection.send_to_connection(sid, NAMESPACE, EVENT, envelope)
    return data


def publish_snapshot(channel: AnalyticsChannel) -> dict[str, Any]:
    """Send a fresh snapshot to everyone watching the channel (its room)."""
    data = compute_snapshot(channel)
    publisher.publish_to_room(NAMESPACE, EVENT, data, channel.room, channel.tenant_id)
    return data


def _sum_counts(rows: list[Counts]) -> Counts:
    """Add counters up; nested dicts (by severity, by namespace) key by key."""
    total: Counts = empty_counts()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict):
                merged = Counter(total.get(key) or {})
                merged.update(value)
                total[key] = dict(merged)
            elif isinstance(value, int | float):
                total[key] = total.get(key, 0) + value
    return total


# ---------------------------------------------------------------- contributors


@contributor
def engagement_activity(
    tenant_ids: Sequence[int], since: datetime
) -> dict[int, Counts]:
    """Live (not archived) engagements and their interactions, per client (1 query)."""
    rows = db.session.execute(
        select(
            Engagement.client_tenant_id,
            func.count(func.distinct(Engagement.id)),
            func.coalesce(func.sum(InteractionCounter.count), 0),
        )
        .outerjoin(
            InteractionCounter, InteractionCounter.engagement_id == Engagement.id
        )
        .where(
            Engagement.client_tenant_id.in_(tenant_ids),
            Engagement.status != "archived",
        )
        .group_by(Engagement.client_tenant_id)
    ).all()
    return {
        tenant_id: {"engagements": engagements, "interactions": int(interactions)}
        for tenant_id, engagements, interactions in rows
    }


@contributor
def events_by_severity(tenant_ids: Sequence[int], since: datetime) -> dict[int, Counts]:
    """``new_event`` events of the last 24 h by severity (one query)."""
    severity = Event.data["severity"].as_string()
    rows = db.session.execute(
        select(Event.tenant_id, severity, func.count())
        .where(
            Event.tenant_id.in_(tenant_ids),
            Event.namespace == "/events",
            Event.type == "new_event",
            Event.created_at >= since,
        )
        .group_by(Event.tenant_id, severity)
    ).all()
    result: dict[int, Counts] = {}
    for tenant_id, level, count in rows:
        by_level = result.setdefault(
            tenant_id, {"events_24h": dict.fromkeys(ALERT_SEVERITIES, 0)}
        )["events_24h"]
        by_level[level or "info"] = by_level.get(level or "info", 0) + count
    return result


@contributor
def alert_counts(tenant_ids: Sequence[int], since: datetime) -> dict[int, Counts]:
    """Unresolved alerts, and how many of them nobody acknowledged (one query)."""
    rows = db.session.execute(
        select(Alert.tenant_id, Alert.status, func.count())
        .where(Alert.tenant_id.in_(tenant_ids), Alert.status != "resolved")
        .group_by(Alert.tenant_id, Alert.status)
    ).all()
    result: dict[int, Counts] = {}
    for tenant_id, status, count in rows:
        counts = result.setdefault(
            tenant_id, {"open_alerts": 0, "unacknowledged_alerts": 0}
        )
        counts["open_alerts"] += count
        if status == "open":
            counts["unacknowledged_alerts"] += count
    return result


@contributor
def intervention_counts(
    tenant_ids: Sequence[int], since: datetime
) -> dict[int, Counts]:
    """Interventions not done yet, and those in progress (one query)."""
    rows = db.session.execute(
        select(Intervention.tenant_id, Intervention.status, func.count())
        .where(Intervention.tenant_id.in_(tenant_ids), Intervention.status != "done")
        .group_by(Intervention.tenant_id, Intervention.status)
    ).all()
    result: dict[int, Counts] = {}
    for tenant_id, status, count in rows:
        counts = result.setdefault(
            tenant_id, {"open_interventions": 0, "interventions_in_progress": 0}
        )
        counts["open_interventions"] += count
        if status == "in_progress":
            counts["interventions_in_progress"] += count
    return result


@contributor
def live_connections(tenant_ids: Sequence[int], since: datetime) -> dict[int, Counts]:
    """Live connections per namespace, from the connection registry (no query)."""
    wanted = set(tenant_ids)
    per_tenant: dict[int, Counter[str]] = {}
    for info in connections.registry().all():
        if info.tenant_id in wanted:
            per_tenant.setdefault(info.tenant_id, Counter())[info.namespace] += 1
    return {
        tenant_id: {"connections": dict(counter)}
        for tenant_id, counter in per_tenant.items()
    }
