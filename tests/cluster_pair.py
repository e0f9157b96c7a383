"""Fixtures for tests that need two processes on one Redis and one PostgreSQL.

Re-exported from ``tests.test_cluster_redis`` so every cluster test module starts
its servers the same way: ``from tests.cluster_pair import *`` style imports of
``pair``, ``cluster`` and ``sockets_on`` make them available as fixtures.
"""

from __future__ import annotations

from tests.test_cluster_redis import Cluster, cluster, pair, sockets_on, wait_until

__all__ = ["Cluster", "cluster", "pair", "sockets_on", "wait_until"]
