"""REST helpers and a fresh world per test: an MSP with two client tenants.

``Api`` is a tiny ``requests`` wrapper bound to one credential; ``build_world``
creates the tenants, users and keys a test needs through the REST API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import requests


class Api:
    """A tiny ``requests`` wrapper bound to one server and one credential."""

    def __init__(self, url: str, token: str | None = None, api_key: str | None = None):
        self.url = url
        self.headers: dict[str, str] = {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if api_key:
            self.headers["X-API-Key"] = api_key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request with this credential."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(
            method, self.url + path, headers=headers, timeout=30, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def login(url: str, email: str, password: str) -> dict[str, Any]:
    """POST /api/auth/login and return the JSON body."""
    response = requests.post(
        url + "/api/auth/login", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


@dataclass
class Member:
    """A user created for a test, with fresh tokens."""

    id: int
    email: str
    password: str
    role: str
    tenant_id: int
    access_token: str
    refresh_token: str


@dataclass
class World:
    """A fresh MSP with two client tenants, users and API keys (per test)."""

    url: str
    admin: Member
    msp_tenant: dict[str, Any]
    tenant_a: dict[str, Any]
    tenant_b: dict[str, Any]
    msp_user: Member
    user_a: Member
    user_b: Member
    key_msp: str
    key_a: str
    key_b: str

    def api(self, who: Member | str | None = None) -> Api:
        """REST client for a member (JWT) or an API key (str)."""
        if isinstance(who, Member):
            return Api(self.url, token=who.access_token)
        if isinstance(who, str):
            return Api(self.url, api_key=who)
        return Api(self.url)

    def add_user(self, tenant_id: int, role: str = "client") -> Member:
        """Create one more user in a tenant (as the admin) and log in."""
        return make_member(self.url, self.admin, tenant_id, role)


def make_member(url: str, creator: Member, tenant_id: int, role: str) -> Member:
    """Create a user through the REST API and log in as them."""
    email = f"{role}-{uuid.uuid4().hex[:10]}@test.switchboard"
    password = "correct-horse-battery"
    response = Api(url, token=creator.access_token).post(
        f"/api/tenants/{tenant_id}/users",
        json={
            "email": email,
            "password": password,
            "name": email.split("@")[0],
            "role": role,
        },
    )
    assert response.status_code == 201, response.text
    tokens = login(url, email, password)
    return Member(
        tokens["user"]["id"],
        email,
        password,
        role,
        tenant_id,
        tokens["access_token"],
        tokens["refresh_token"],
    )


def build_world(url: str, seed: dict[str, Any]) -> World:
    """Create a fresh MSP tree through the REST API, as the seeded admin."""
    admin_seed = next(u for u in seed["users"] if u["role"] == "admin")
    tokens = login(url, admin_seed["email"], admin_seed["password"])
    admin = Member(
        admin_seed["id"],
        admin_seed["email"],
        admin_seed["password"],
        "admin",
        admin_seed["tenant_id"],
        tokens["access_token"],
        tokens["refresh_token"],
    )
    api = Api(url, token=admin.access_token)
    suffix = uuid.uuid4().hex[:8]

    def tenant(name: str, kind: str, parent: int | None = None) -> dict[str, Any]:
        response = api.post(
            "/api/tenants",
            json={"name": f"{name}-{suffix}", "kind": kind, "parent_id": parent},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def key(tenant_id: int) -> str:
        response = api.post(f"/api/tenants/{tenant_id}/api-keys", json={"name": "test"})
        assert response.status_code == 201, response.text
        return str(response.json()["key"])

    msp = tenant("msp", "msp")
    tenant_a = tenant("client-a", "client", msp["id"])
    tenant_b = tenant("client-b", "client", msp["id"])
    return World(
        url=url,
        admin=admin,
        msp_tenant=msp,
        tenant_a=tenant_a,
        tenant_b=tenant_b,
        msp_user=make_member(url, admin, msp["id"], "msp"),
        user_a=make_member(url, admin, tenant_a["id"], "client"),
        user_b=make_member(url, admin, tenant_b["id"], "client"),
        key_msp=key(msp["id"]),
        key_a=key(tenant_a["id"]),
        key_b=key(tenant_b["id"]),
    )


def publish_alert(
    api: Api, tenant_id: int, title: str, severity: str = "low"
) -> requests.Response:
    """POST /api/publish one /engagement alert to a tenant's room (not checked)."""
    return api.post(
        "/api/publish",
        json={
            "namespace": "/engagement",
            "event": "alert",
            "data": {"title": title, "severity": severity},
            "target": {"tenant": tenant_id},
        },
    )


def publish_alerts(
    url: str, api_key: str, tenant_id: int, count: int, prefix: str = "alert"
) -> list[int]:
    """Publish ``count`` /engagement alerts (in batches) and return their ids."""
    ids: list[int] = []
    api = Api(url, api_key=api_key)
    for start in range(0, count, 500):
        batch = [
            {
                "namespace": "/engagement",
                "event": "alert",
                "data": {"title": f"{prefix}-{n}", "severity": "info"},
                "target": {"tenant": tenant_id},
            }
            for n in range(start, min(count, start + 500))
        ]
        response = api.post("/api/publish/batch", json=batch)
        assert response.status_code == 202, response.text
        ids.extend(result["id"] for result in response.json()["results"])
    return ids
