"""Collaboration sessions: creating them, joining, leaving and talking in them.

A session belongs to one tenant; whoever may see that tenant may join it. Joining
and leaving are announced (``user_joined``/``user_left``) once per user, however
many connections (tabs) that user has in the session.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from webapp.auth.identity import Identity
from webapp.errors import Conflict, DomainError, NotFound, ValidationFailed
from webapp.extensions import db
from webapp.models import CollabSession
from webapp.rooms import session_room
from webapp.services.cluster.presence import PresenceChange, presence_store
from webapp.services.delivery import publisher
from webapp.services.engagement.engagements import get_visible_engagement
from webapp.services.tenancy.visibility import get_visible_tenant, visible_tenant_ids
from webapp.services.webhooks.outbox import presence_changed

NAMESPACE = "/engagement"


def get_visible_session(identity: Identity, session_id: int) -> CollabSession:
    """The session if the caller may see its tenant; 404 otherwise."""
    session = db.session.get(CollabSession, session_id)
    if session is None or not identity.can_see_tenant(session.tenant_id):
        raise NotFound("session not found")
    return session


def resolve_session(identity: Identity, session_id: int) -> tuple[str, int]:
    """``/api/publish`` target ``{"session": id}``, tenant-checked."""
    session = get_visible_session(identity, session_id)
    return session_room(session.id), session.tenant_id


def create_session(
    identity: Identity,
    title: str,
    tenant_id: int | None = None,
    engagement_id: int | None = None,
) -> CollabSession:
    """Create a session in a tenant the caller sees (an engagement's client's)."""
    if engagement_id is not None:
        engagement = get_visible_engagement(identity, engagement_id)
        if engagement.status == "archived":
            raise Conflict("the engagement is archived", code="engagement_archived")
        if tenant_id not in (None, engagement.client_tenant_id):
            raise ValidationFailed(
                "tenant_id must be the engagement's client tenant",
                details=[{"field": "tenant_id"}],
            )
        tenant_id = engagement.client_tenant_id
    tenant = get_visible_tenant(identity, tenant_id or identity.tenant_id)
    session = CollabSession(
        tenant_id=tenant.id,
        engagement_id=engagement_id,
        title=title,
        created_by=identity.user_id,
    )
    db.session.add(session)
    db.session.commit()
    return session


def list_sessions(
    identity: Identity, tenant_id: int | None = None, engagement_id: int | None = None
) -> list[CollabSession]:
    """Sessions of every tenant the caller may see, oldest first."""
    query = select(CollabSession).where(
        CollabSession.tenant_id.in_(visible_tenant_ids(identity, tenant_id))
    )
    if engagement_id is not None:
        query = query.where(CollabSession.engagement_id == engagement_id)
    return list(db.session.scalars(query.order_by(CollabSession.id)))


def describe_session(session: CollabSession) -> dict[str, Any]:
    """The session with its live participants and their count."""
    participants = presence_store().participants(session.id)
    return {
        **session.to_dict(),
        "participants": participants,
        "count": len(participants),
    }


def join_session(identity: Identity, sid: str, session_id: int) -> dict[str, Any]:
    """Record the connection in the session and tell the others if the user is new.

    The caller enters the session room *after* this returns, so the joining
    connection is not told about itself; its ack carries the participants.
    """
    session = get_visible_session(identity, session_id)
    change = presence_store().join(session.id, sid, identity.user_summary())
    if change.changed:
        _announce("user_joined", change, session.tenant_id, skip_sid=sid)
    presence_changed(change, session.tenant_id, joined=True)
    return {"session_id": session.id, **_membership(session)}


def leave_session(identity: Identity, sid: str, session_id: int) -> dict[str, Any]:
    """Forget the connection in the session; tell the others if the user is gone.

    The caller leaves the session room *before* this runs.
    """
    session = get_visible_session(identity, session_id)
    change = presence_store().leave(session.id, sid)
    if change is None:
        raise DomainError("you have not joined this session", code="not_joined")
    if change.changed:
        _announce("user_left", change, session.tenant_id)
    presence_changed(change, session.tenant_id, joined=False)
    return {"session_id": session.id, **_membership(session)}


def drop_connection(sid: str) -> list[int]:
    """A connection went away (cleanly or not): leave every session it joined."""
    left = []
    for session_id in presence_store().sessions_of(sid):
        change = presence_store().leave(session_id, sid)
        session = db.session.get(CollabSession, session_id)
        if change is not None and change.changed and session is not None:
            _announce("user_left", change, session.tenant_id)
            presence_changed(change, session.tenant_id, joined=False)
        left.append(session_id)
    return left


def joined_sessions(sid: str) -> list[int]:
    """The sessions one connection has joined."""
    return presence_store().sessions_of(sid)


def send_message(
    identity: Identity, sid: str, session_id: int, text: str
) -> dict[str, Any]:
    """Persist and broadcast a message to the session room (the sender included)."""
    session = get_visible_session(identity, session_id)
    if not presence_store().is_member(session.id, sid):
        raise DomainError("join the session before sending to it", code="not_joined")
    result = publisher.publish_to_room(
        NAMESPACE,
        "session_message",
        {"session_id": session.id, "text": text, "user": identity.user_summary()},
        session_room(session.id),
        session.tenant_id,
    )
    return {"id": result.envelope["id"]}


def _membership(session: CollabSession) -> dict[str, Any]:
    """Participants, count and the session itself, for acks."""
    participants = presence_store().participants(session.id)
    return {
        "participants": participants,
        "count": len(participants),
        "session": session.to_dict(),
    }


def _announce(
    event: str, change: PresenceChange, tenant_id: int, skip_sid: str | None = None
) -> None:
    """Volatile presence event to the session room (never to ``skip_sid``)."""
    publisher.publish_to_room(
        NAMESPACE,
        event,
        {"session_id": change.session_id, "user": change.user, "count": change.count},
        session_room(change.session_id),
        tenant_id,
        skip_sid=skip_sid,
    )
