"""AI agent runs: each run's events go to its user's room on /events, in order.

A run ends with ``agent_completed`` or ``agent_error``; anything posted after that
is refused (409). Producer payloads are sanitised before they leave the server:
strings are capped, tracebacks and other server internals are removed, and the
whole payload must fit ``AGENT_EVENT_MAX_BYTES``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app
from sqlalchemy import update

from webapp.auth.identity import Identity
from webapp.errors import Conflict, DomainError, NotFound, ValidationFailed
from webapp.extensions import db
from webapp.models import AgentRun, User
from webapp.models.time import utcnow
from webapp.rooms import user_room
from webapp.services.delivery import publisher

TERMINAL = {"agent_completed": "completed", "agent_error": "failed"}
RESERVED_KEYS = frozenset({"run_id", "seq"})
# Keys that carry server internals; dropped from agent_error payloads.
INTERNAL_KEYS = frozenset(
    {
        "traceback",
        "stack",
        "stacktrace",
        "stack_trace",
        "exc_info",
        "exception",
        "frames",
        "locals",
    }
)
INTERNALS = re.compile(
    r"Traceback \(most recent call last\)"
    r'|File "[^"]+", line \d+'
    r"|\bat [\w.$<>]+\([\w.]+:\d+\)"
)
REDACTED = "[redacted: server internals]"
DEFAULT_ERROR_MESSAGE = "the agent run failed"
MAX_DEPTH = 8


def start_run(identity: Identity, user_id: int, name: str = "") -> AgentRun:
    """Start a run for a user the caller may see (404 for anyone else's)."""
    user = db.session.get(User, user_id)
    if user is None or not identity.can_see_tenant(user.tenant_id):
        raise NotFound("user not found")
    run = AgentRun(tenant_id=user.tenant_id, user_id=user.id, name=name)
    db.session.add(run)
    db.session.commit()
    return run


def get_run(identity: Identity, run_id: int) -> AgentRun:
    """A run of a tenant the caller may see, or 404."""
    run = db.session.get(AgentRun, run_id)
    if run is None or not identity.can_see_tenant(run.tenant_id):
        raise NotFound("agent run not found")
    return run


def post_event(
    identity: Identity, run_id: int, event_type: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Sanitise, claim the next sequence number, then publish to the run's user."""
    run = get_run(identity, run_id)
    clean = sanitise(event_type, data)
    values: dict[str, Any] = {"event_count": AgentRun.event_count + 1}
    if event_type in TERMINAL:
        values.update(status=TERMINAL[event_type], finished_at=utcnow())
    # One conditional UPDATE decides, even under concurrency, whether the run is
    # still open and which sequence number this event gets.
    seq = db.session.scalar(
        update(AgentRun)
        .where(AgentRun.id == run.id, AgentRun.status == "running")
        .values(**values)
        .returning(AgentRun.event_count)
    )
    db.session.commit()
    if seq is None:
        raise Conflict(f"agent run {run.id} has finished", code="run_finished")
    result = publisher.publish_to_room(
        "/events",
        event_type,
        {**clean, "run_id": run.id, "seq": seq},
        user_room(run.user_id),
        run.tenant_id,
    )
    return {**result.to_dict(), "run_id": run.id, "seq": seq}


def sanitise(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Cap sizes and strip server internals from a producer's payload."""
    reserved = sorted(RESERVED_KEYS & data.keys())
    if reserved:
        raise ValidationFailed(
            "these fields are set by the server",
            details=[
                {"field": f"data.{key}", "message": "reserved"} for key in reserved
            ],
        )
    config = current_app.config
    cleaner = _Cleaner(
        max_string=config.get("AGENT_EVENT_MAX_STRING", 4000),
        drop_internal_keys=event_type == "agent_error",
    )
    clean: dict[str, Any] = cleaner.clean(data, 0)
    if event_type == "agent_error":
        message = clean.get("message")
        if not isinstance(message, str) or not message or message == REDACTED:
            clean["message"] = DEFAULT_ERROR_MESSAGE
    limit = config.get("AGENT_EVENT_MAX_BYTES", 16 * 1024)
    size = len(json.dumps(clean, separators=(",", ":")).encode())
    if size > limit:
        raise DomainError(
            f"the event data is {size} bytes; at most {limit} are allowed",
            code="payload_too_large",
            status=413,
        )
    return clean


class _Cleaner:
    """Walks a JSON value: caps strings, redacts internals, limits depth."""

    def __init__(self, max_string: int, drop_internal_keys: bool) -> None:
        self.max_string = max_string
        self.drop_internal_keys = drop_internal_keys

    def clean(self, value: Any, depth: int) -> Any:
        """The cleaned copy of ``value``."""
        if depth > MAX_DEPTH:
            raise ValidationFailed(
                f"data is nested deeper than {MAX_DEPTH} levels",
                details=[{"field": "data", "message": "too deep"}],
            )
        if isinstance(value, str):
            return self._string(value)
        if isinstance(value, dict):
            return {
                str(key): self.clean(item, depth + 1)
                for key, item in value.items()
                if not (self.drop_internal_keys and str(key).lower() in INTERNAL_KEYS)
            }
        if isinstance(value, list):
            return [self.clean(item, depth + 1) for item in value]
        return value

    def _string(self, text: str) -> str:
        if INTERNALS.search(text):
            return REDACTED
        if len(text) > self.max_string:
            return text[: self.max_string] + "…"
        return text
