"""The /events namespace's events: security events, AI agent runs (docs/events.md)."""

from __future__ import annotations

from typing import Any

from webapp.event_payloads import (
    AGENT_EVENT_TYPES,
    AgentRunEvent,
    Detection,
    NewEvent,
)
from webapp.event_type import DOMAIN_ONLY, EventType

_AGENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "agent_started": {"name": "triage"},
    "agent_thinking": {"thought": "Looking at the last 10 alerts"},
    "tool_executing": {"tool": "search_logs", "input": {"query": "door"}},
    "tool_completed": {"tool": "search_logs", "output": "3 matches"},
    "agent_completed": {"result": "No action needed"},
    "agent_error": {"message": "the agent failed", "code": "tool_timeout"},
}

# One event per step of an agent run, all with the same payload model.
_AGENT_RUN_EVENTS = tuple(
    EventType(
        "/events",
        agent_event,
        AgentRunEvent,
        f"AI agent run, to its user only: {agent_event.replace('_', ' ')}.",
        targets=frozenset({"user"}),
        publishers=DOMAIN_ONLY,
        example={"run_id": 5, "seq": 1, **_AGENT_EXAMPLES[agent_event]},
    )
    for agent_event in AGENT_EVENT_TYPES
)

DECLARED: tuple[EventType, ...] = (
    EventType(
        "/events",
        "new_event",
        NewEvent,
        "A security event was recorded (POST /api/events).",
        publishers=DOMAIN_ONLY,
        example={
            "id": 12,
            "tenant_id": 3,
            "source": "front-door",
            "camera_id": "cam-3",
            "severity": "high",
            "summary": "Door forced open",
            "occurred_at": "2026-01-05T09:30:00Z",
        },
    ),
    EventType(
        "/events",
        "detection",
        Detection,
        "An object was detected in a security event (POST /api/detections).",
        publishers=DOMAIN_ONLY,
        example={
            "id": 40,
            "event_id": 12,
            "tenant_id": 3,
            "label": "person",
            "confidence": 0.93,
            "bbox": {"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.5},
            "created_at": "2026-01-05T09:30:01Z",
        },
    ),
    *_AGENT_RUN_EVENTS,
)
