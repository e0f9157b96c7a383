"""System state: latest GPU figures (volatile) and camera status (persisted).

``SystemStateStore`` is the interface for the volatile part; ``MemorySystemState``
serves one process. With ``MESSAGE_QUEUE_URL`` set,
``system_state_redis.RedisSystemState`` (on the app's ``ClusterState``) is used
instead, so every process serves the newest reading posted through any process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.auth.identity import Identity
from webapp.event_registry import GpuReading
from webapp.extensions import db
from webapp.models import Camera
from webapp.models.time import isoformat, utcnow
from webapp.rooms import tenant_room
from webapp.services.delivery import publisher
from webapp.services.events.security_events import write_tenant_id
from webapp.services.tenancy.visibility import get_visible_tenant

EXTENSION_KEY = "switchboard.system_state"
GpuKey = tuple[int, str, int]  # (tenant_id, host, index)


class SystemStateStore(Protocol):
    """Where the latest value of each GPU is kept."""

    def put_gpus(
        self, tenant_id: int, gpus: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Replace these GPUs' latest values; return all of the tenant's GPUs."""

    def gpus(self, tenant_ids: Iterable[int]) -> list[dict[str, Any]]:
        """The latest value of every GPU of these tenants."""


class MemorySystemState:
    """In-process store (one server process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gpus: dict[GpuKey, dict[str, Any]] = {}

    def put_gpus(
        self, tenant_id: int, gpus: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Replace these GPUs' latest values; return all of the tenant's GPUs."""
        with self._lock:
            for gpu in gpus:
                self._gpus[(tenant_id, gpu["host"], gpu["index"])] = dict(gpu)
        return self.gpus([tenant_id])

    def gpus(self, tenant_ids: Iterable[int]) -> list[dict[str, Any]]:
        """The latest value of every GPU of these tenants."""
        wanted = set(tenant_ids)
        with self._lock:
            return [
                dict(value)
                for key, value in sorted(self._gpus.items())
                if key[0] in wanted
            ]


def system_state() -> SystemStateStore:
    """The app's store: Redis-backed in a cluster, in memory otherwise."""
    from webapp.services.cluster.state import app_store
    from webapp.services.system.state_redis import RedisSystemState

    store: SystemStateStore = app_store(
        EXTENSION_KEY, MemorySystemState, RedisSystemState
    )
    return store


def report_gpu_stats(
    identity: Identity, readings: list[GpuReading], tenant_id: int | None = None
) -> dict[str, Any]:
    """Keep the latest value per GPU and broadcast ``gpu_stats`` (never persisted)."""
    target = write_tenant_id(identity, tenant_id)
    now = isoformat(utcnow())
    gpus = system_state().put_gpus(
        target,
        [{**r.model_dump(), "tenant_id": target, "updated_at": now} for r in readings],
    )
    result = publisher.publish_to_room(
        "/system", "gpu_stats", {"gpus": gpus}, tenant_room(target), target
    )
    return result.envelope


def set_camera_status(
    identity: Identity,
    camera_id: str,
    status: str,
    detail: str | None = None,
    tenant_id: int | None = None,
) -> dict[str, Any]:
    """Store a camera's status; broadcast ``camera_status`` only when it changed."""
    target = write_tenant_id(identity, tenant_id)
    previous, camera = _store_status(target, camera_id, status, detail)
    body: dict[str, Any] = {"camera": camera.to_dict(), "changed": False, "event": None}
    if previous is not _UNCHANGED:
        data = {
            "camera_id": camera.camera_id,
            "tenant_id": target,
            "status": camera.status,
            "previous_status": previous,
            "detail": camera.detail,
            "changed_at": isoformat(camera.changed_at),
        }
        result = publisher.publish_to_room(
            "/system", "camera_status", data, tenant_room(target), target
        )
        body["changed"] = True
        body["event"] = {"id": result.envelope["id"], "room": result.envelope["room"]}
    return body


_UNCHANGED = object()


def _store_status(
    tenant_id: int, camera_id: str, status: str, detail: str | None
) -> tuple[Any, Camera]:
    """Create or compare-and-set; returns (previous status or _UNCHANGED, camera)."""
    for _attempt in range(5):
        now = utcnow()
        camera = db.session.scalar(
            select(Camera).where(
                Camera.tenant_id == tenant_id, Camera.camera_id == camera_id
            )
        )
        if camera is None:
            camera = Camera(
                tenant_id=tenant_id,
                camera_id=camera_id,
                status=status,
                detail=detail,
                changed_at=now,
                updated_at=now,
            )
            db.session.add(camera)
            try:
                db.session.commit()
            except IntegrityError:  # created concurrently: compare with theirs
                db.session.rollback()
                continue
            return None, camera
        previous = camera.status
        values: dict[str, Any] = {"detail": detail, "updated_at": now}
        if previous != status:
            values.update(status=status, changed_at=now)
        # Only one of two concurrent changes wins the compare-and-set, so a
        # change is broadcast exactly once.
        swapped = db.session.execute(
            update(Camera)
            .where(Camera.id == camera.id, Camera.status == previous)
            .values(**values)
        )
        db.session.commit()
        if swapped.rowcount:  # type: ignore[attr-defined]
            db.session.refresh(camera)
            return (previous if previous != status else _UNCHANGED), camera
    raise RuntimeError("camera status kept changing underneath us")


def snapshot(tenant_ids: Iterable[int]) -> dict[str, Any]:
    """``{gpus, cameras}``: the latest known state of these tenants."""
    ids = sorted(set(tenant_ids))
    cameras = db.session.scalars(
        select(Camera)
        .where(Camera.tenant_id.in_(ids))
        .order_by(Camera.tenant_id, Camera.camera_id)
    )
    return {
        "gpus": system_state().gpus(ids),
        "cameras": [camera.to_dict() for camera in cameras],
    }


def snapshot_for(identity: Identity, tenant_id: int | None = None) -> dict[str, Any]:
    """The snapshot a connection of ``identity`` gets (or one visible tenant's)."""
    if tenant_id is not None:
        return snapshot([get_visible_tenant(identity, tenant_id).id])
    return snapshot(identity.visible_tenant_ids or (identity.tenant_id,))
