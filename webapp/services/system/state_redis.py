"""The latest GPU readings for a cluster: what any process received, in Redis.

Each process keeps the readings posted through it in its part of one
``ClusterState`` hash per tenant, ``gpus:{tenant_id}``: ``host|index`` ->
``{"ts": …, "gpu": …}`` (JSON; ``ts`` is when the reading arrived). Reading merges
every live process's part and keeps, per GPU, the newest one, so
``system_snapshot`` and ``GET /api/system/status`` show the latest value whichever
process it was posted through. Only the owner writes its part, so there is no
write race to resolve.

A reading lives as long as the process that received it: when that process dies
its readings expire with it, and a GPU then shows the newest reading kept by
another process (or none) until the next report.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from webapp.services.cluster.message_queue import MessageQueueUnavailable
from webapp.services.cluster.state import ClusterState, cluster_state

logger = logging.getLogger(__name__)


def _name(tenant_id: int) -> str:
    return f"gpus:{tenant_id}"


def _field(gpu: dict[str, Any]) -> str:
    return f"{gpu['host']}|{gpu['index']}"


class RedisSystemState:
    """Latest GPU values across every live process (newest reading wins)."""

    def __init__(self, state: ClusterState) -> None:
        self.state = state

    def put_gpus(
        self, tenant_id: int, gpus: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Replace these GPUs' latest values; return all of the tenant's GPUs."""
        cluster_state(writer=True)  # this process holds readings: heartbeat
        now = time.time()
        for gpu in gpus:
            value = json.dumps({"ts": now, "gpu": gpu})
            self.state.set(_name(tenant_id), _field(gpu), value)
        return self.gpus([tenant_id])

    def gpus(self, tenant_ids: Iterable[int]) -> list[dict[str, Any]]:
        """The latest value of every GPU of these tenants, by tenant, host, index.

        While Redis is down only this process's readings are known: they are
        served rather than failing the snapshot.
        """
        result: list[dict[str, Any]] = []
        for tenant_id in sorted(set(tenant_ids)):
            newest = self._newest(_name(tenant_id))
            result.extend(gpu for _, gpu in sorted(newest.values(), key=_order))
        return result

    def _newest(self, name: str) -> dict[str, tuple[tuple[float, str], dict[str, Any]]]:
        """Per GPU field: ((arrival time, process), reading) of the newest one."""
        try:
            found = self.state.entries(name)
        except MessageQueueUnavailable:
            logger.warning("Redis down: GPU stats of this process only")
            found = {}
        found[self.state.process_id] = self.state.local(name)  # authoritative
        newest: dict[str, tuple[tuple[float, str], dict[str, Any]]] = {}
        for pid, entries in found.items():
            for gpu_field, raw in entries.items():
                try:
                    entry = json.loads(raw)
                    stamp = (float(entry["ts"]), pid)
                    gpu: dict[str, Any] = dict(entry["gpu"])
                except (ValueError, KeyError, TypeError):
                    logger.warning("ignoring a malformed GPU entry %r", raw)
                    continue
                current = newest.get(gpu_field)
                if current is None or stamp > current[0]:
                    newest[gpu_field] = (stamp, gpu)
        return newest


def _order(item: tuple[tuple[float, str], dict[str, Any]]) -> tuple[str, int]:
    gpu = item[1]
    return (str(gpu.get("host", "")), int(gpu.get("index", 0)))
