"""What an event declaration is: ``EventType``, the namespaces, targets and publishers.

The declarations themselves are in ``webapp/event_declarations/`` (one module per
namespace); ``webapp.event_registry`` registers them and is where callers look
them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

NAMESPACES = ("/engagement", "/events", "/system", "/dashboard")
TARGET_KINDS = ("tenant", "session", "user", "msp")

# Roles that may publish through /api/publish; "integration" is an API key.
PUBLISHERS = frozenset({"admin", "msp", "integration"})
SERVER_ONLY: frozenset[str] = frozenset()
# Published only through their domain endpoints (POST /api/events, /api/detections,
# /api/agent-runs/<id>/events, /api/system/..., /api/engagements/..., the
# send_message socket event), which keep the domain record, the run state, the
# counters and the real sender; /api/publish would bypass (or forge) all of that.
DOMAIN_ONLY = SERVER_ONLY


@dataclass(frozen=True)
class EventType:
    """One declared event: where it goes, what it carries, who may publish it."""

    namespace: str
    name: str
    schema: type[BaseModel]
    description: str
    persisted: bool = True
    targets: frozenset[str] = frozenset({"tenant"})
    publishers: frozenset[str] = PUBLISHERS
    example: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """Registry key."""
        return (self.namespace, self.name)
