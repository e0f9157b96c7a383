"""The /engagement namespace's events (docs/engagement.md)."""

from __future__ import annotations

from webapp.event_payloads import (
    EngagementAlert,
    EngagementUpdate,
    InteractionUpdate,
    Presence,
    SessionMessage,
)
from webapp.event_type import DOMAIN_ONLY, SERVER_ONLY, EventType

DECLARED: tuple[EventType, ...] = (
    EventType(
        "/engagement",
        "engagement_update",
        EngagementUpdate,
        "An engagement was created, changed, archived or counted an interaction.",
        targets=frozenset({"tenant"}),
        publishers=DOMAIN_ONLY,
        example={
            "engagement": {
                "id": 1,
                "msp_tenant_id": 1,
                "client_tenant_id": 2,
                "title": "Onboarding",
                "status": "active",
                "counters": {"call": 3},
            },
            "action": "interaction",
        },
    ),
    EventType(
        "/engagement",
        "interaction_update",
        InteractionUpdate,
        "An engagement's interaction counters changed.",
        publishers=DOMAIN_ONLY,
        example={
            "engagement_id": 1,
            "kind": "call",
            "count": 3,
            "counters": {"call": 3},
        },
    ),
    EventType(
        "/engagement",
        "alert",
        EngagementAlert,
        "An alert for a client tenant, or MSP-only when sent to msp:<id>.",
        targets=frozenset({"tenant", "msp", "session", "user"}),
        example={
            "severity": "high",
            "title": "SLA breach",
            "message": "Ticket 42 is overdue",
            "engagement_id": 1,
        },
    ),
    EventType(
        "/engagement",
        "user_joined",
        Presence,
        "A user's first connection joined a session (sent to the others in it).",
        persisted=False,
        targets=frozenset({"session"}),
        publishers=SERVER_ONLY,
        example={
            "session_id": 7,
            "user": {"id": 3, "name": "Ann", "role": "client", "tenant_id": 2},
            "count": 2,
        },
    ),
    EventType(
        "/engagement",
        "user_left",
        Presence,
        "A user's last connection left a session or dropped (sent to the others).",
        persisted=False,
        targets=frozenset({"session"}),
        publishers=SERVER_ONLY,
        example={
            "session_id": 7,
            "user": {"id": 3, "name": "Ann", "role": "client", "tenant_id": 2},
            "count": 1,
        },
    ),
    EventType(
        "/engagement",
        "session_message",
        SessionMessage,
        "A chat message in a collaboration session (the sender receives it too).",
        targets=frozenset({"session"}),
        publishers=DOMAIN_ONLY,
        example={
            "session_id": 7,
            "text": "hello",
            "user": {"id": 3, "name": "Ann", "role": "client", "tenant_id": 2},
        },
    ),
)
