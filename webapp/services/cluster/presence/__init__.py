"""Who is in which collaboration session, counted per user, not per connection.

``PresenceStore`` (``base.py``) is the interface; ``MemoryPresence``
(``memory_store.py``) serves one process. With ``MESSAGE_QUEUE_URL`` set,
``RedisPresence`` (``redis_store.py``, on the app's ``ClusterState``) is used
instead, so every process sees the whole cluster's participants. Either is
created on first use under ``EXTENSION_KEY``.
"""

from __future__ import annotations

from webapp.services.cluster.presence.base import PresenceChange, PresenceStore
from webapp.services.cluster.presence.memory_store import MemoryPresence
from webapp.services.cluster.presence.redis_store import RedisPresence
from webapp.services.cluster.state import app_store

__all__ = [
    "EXTENSION_KEY",
    "MemoryPresence",
    "PresenceChange",
    "PresenceStore",
    "RedisPresence",
    "presence_store",
]

EXTENSION_KEY = "switchboard.presence"


def presence_store() -> PresenceStore:
    """The app's store: Redis-backed in a cluster, in memory otherwise."""
    store: PresenceStore = app_store(EXTENSION_KEY, MemoryPresence, RedisPresence)
    return store
