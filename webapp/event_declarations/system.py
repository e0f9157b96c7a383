"""The /system namespace's events (docs/system.md)."""

from __future__ import annotations

from webapp.event_payloads import CameraStatus, GpuStats
from webapp.event_type import DOMAIN_ONLY, EventType

DECLARED: tuple[EventType, ...] = (
    EventType(
        "/system",
        "gpu_stats",
        GpuStats,
        "Latest value of every GPU of the tenant; volatile (never persisted or "
        "replayed).",
        persisted=False,
        publishers=DOMAIN_ONLY,
        example={
            "gpus": [
                {
                    "index": 0,
                    "host": "nvr-1",
                    "name": "RTX A2000",
                    "utilization": 71.5,
                    "memory_used": 5120,
                    "memory_total": 12288,
                    "temperature": 64,
                    "power": 55.2,
                    "tenant_id": 3,
                    "updated_at": "2026-01-05T09:30:00Z",
                }
            ]
        },
    ),
    EventType(
        "/system",
        "camera_status",
        CameraStatus,
        "A camera changed status (sent only on a change).",
        publishers=DOMAIN_ONLY,
        example={
            "camera_id": "cam-3",
            "tenant_id": 3,
            "status": "offline",
            "previous_status": "online",
            "detail": "no signal",
            "changed_at": "2026-01-05T09:30:00Z",
        },
    ),
)
