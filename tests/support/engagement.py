"""Builders, leak checks and a killable client for the /engagement live tests."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

from tests.support.server import ROOT
from tests.support.sockets import SocketRecorder
from tests.support.world import Member, World

# A real client in its own process, so a test can SIGKILL or SIGSTOP it.
KILLABLE_CLIENT = r"""
import sys, socketio
url, token, session_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = socketio.Client(reconnection=False)
client.connect(url, namespaces=["/engagement"], auth={"token": token},
               transports=["websocket"], wait_timeout=10)
if session_id:
    ack = client.call("join_session", {"session_id": session_id},
                      namespace="/engagement", timeout=10)
    print("joined" if ack.get("ok") else f"failed {ack}", flush=True)
else:
    print("connected", flush=True)
client.wait()
"""


def start_killable_client(
    url: str, member: Member, session_id: int = 0
) -> subprocess.Popen[str]:
    """Connect (and join ``session_id``) from a subprocess; return once it has."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLABLE_CLIENT,
            url,
            member.access_token,
            str(session_id),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line in ("joined", "connected"), line
    return process


def kill_client(process: subprocess.Popen[str]) -> None:
    """SIGKILL a killable client (no disconnect packet) and reap it."""
    process.kill()
    process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


def new_engagement(
    world: World,
    client_tenant_id: int | None = None,
    who: Member | None = None,
    title: str = "Onboarding",
) -> dict[str, Any]:
    """Create an engagement (by the MSP user unless ``who``) and return it."""
    response = world.api(who or world.msp_user).post(
        "/api/engagements",
        json={
            "client_tenant_id": client_tenant_id or world.tenant_a["id"],
            "title": title,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def new_session(world: World, who: Member, **body: Any) -> dict[str, Any]:
    """Create a collaboration session and return it."""
    response = world.api(who).post("/api/sessions", json={"title": "Sync", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def barrier(
    world: World, recorder: SocketRecorder, api_key: str, tenant_id: int
) -> None:
    """Publish a marker to the recorder's tenant room and wait until it arrives.

    Emits reach one connection in order, so once the marker is here anything
    published before it has arrived too: "received nothing" is then a fact, not
    a timeout.
    """
    marker = f"barrier-{uuid.uuid4().hex[:8]}"
    response = world.api(api_key).post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": marker},
            "target": {"tenant": tenant_id},
        },
    )
    assert response.status_code == 202, response.text
    recorder.wait_for("alert", lambda e: e["data"]["title"] == marker)


def domain_events(recorder: SocketRecorder, *names: str) -> list[dict[str, Any]]:
    """Envelopes received on /engagement (of ``names``), barriers left out."""
    return [
        data
        for namespace, name, data in list(recorder.events)
        if namespace == "/engagement"
        and name != "welcome"
        and (not names or name in names)
        and not str(data.get("data", {}).get("title", "")).startswith("barrier-")
    ]


def assert_no_leaks(
    recorder: SocketRecorder, rooms: set[str], tenant_ids: set[int]
) -> None:
    """Every event this connection received came from its own rooms and tenants."""
    for namespace, name, data in list(recorder.events):
        if name == "welcome":
            assert data["user"]["tenant_id"] in tenant_ids
            continue
        assert data["room"] in rooms, (namespace, name, data)
        assert data["tenant_id"] in tenant_ids, (namespace, name, data)
        session_id = data["data"].get("session_id")
        if session_id is not None and data["room"].startswith("session:"):
            assert data["room"] == f"session:{session_id}", data
