"""REST endpoints for GPU and camera status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from webapp.api.schemas import (
    CameraPath,
    CameraStatusBody,
    GpuStatsBody,
    TenantQuery,
    parse_body,
    parse_query,
)
from webapp.auth.guards import authenticated, current_identity
from webapp.event_registry import PUBLISHERS
from webapp.services.system import state as system_state

bp = Blueprint("system", __name__)


@bp.post("/api/system/gpu-stats")
@authenticated(allow_api_key=True, roles=PUBLISHERS)
def report_gpu_stats() -> tuple[dict[str, Any], int]:
    """Keep the latest value per GPU and broadcast ``gpu_stats`` (volatile)."""
    body = parse_body(GpuStatsBody)
    envelope = system_state.report_gpu_stats(
        current_identity(), body.gpus, body.tenant_id
    )
    return {"gpus": envelope["data"]["gpus"], "room": envelope["room"]}, 202


@bp.put("/api/system/cameras/<camera_id>/status")
@authenticated(allow_api_key=True, roles=PUBLISHERS)
def set_camera_status(camera_id: str) -> dict[str, Any]:
    """Store a camera's status; ``camera_status`` goes out only on a change."""
    path = parse_body(CameraPath, {"camera_id": camera_id})
    body = parse_body(CameraStatusBody)
    return system_state.set_camera_status(
        current_identity(), path.camera_id, body.status, body.detail, body.tenant_id
    )


@bp.get("/api/system/status")
@authenticated(allow_api_key=True)
def status() -> dict[str, Any]:
    """The same ``{gpus, cameras}`` snapshot a /system connection gets."""
    query = parse_query(TenantQuery)
    return system_state.snapshot_for(current_identity(), query.tenant_id)
