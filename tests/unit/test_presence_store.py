"""The in-memory presence store: users count once, the last connection leaves."""

from __future__ import annotations

from flask import Flask

from webapp.services.cluster.presence import (
    MemoryPresence,
    PresenceChange,
    presence_store,
)

ANN = {"id": 1, "name": "Ann"}
BOB = {"id": 2, "name": "Bob"}


def test_a_users_first_connection_joins_and_its_last_one_leaves() -> None:
    store = MemoryPresence()
    assert store.join(7, "tab1", ANN) == PresenceChange(7, ANN, 1, True)
    assert store.join(7, "tab2", ANN) == PresenceChange(7, ANN, 1, False)
    assert store.join(7, "bob", BOB) == PresenceChange(7, BOB, 2, True)
    assert store.participants(7) == [ANN, BOB]
    assert store.leave(7, "tab1") == PresenceChange(7, ANN, 2, False)
    assert store.leave(7, "tab2") == PresenceChange(7, ANN, 1, True)
    assert store.leave(7, "tab2") is None
    assert store.participants(7) == [BOB]


def test_membership_is_per_connection_and_per_session() -> None:
    store = MemoryPresence()
    store.join(7, "tab1", ANN)
    store.join(8, "tab1", ANN)
    assert store.sessions_of("tab1") == [7, 8]
    assert store.is_member(7, "tab1") and not store.is_member(7, "tab2")
    assert store.leave(9, "tab1") is None
    store.leave(7, "tab1")
    store.leave(8, "tab1")
    assert store.sessions_of("tab1") == []
    assert store.participants(7) == store.participants(8) == []


def test_the_app_keeps_one_store(app: Flask) -> None:
    assert presence_store() is presence_store()
    assert app.extensions["switchboard.presence"] is presence_store()
