"""Helpers for the OpenAPI tests: a dedicated live server and the fuzzer's credentials.

The fuzzer gets its own server (SQLite) because it creates, revokes and deactivates
whatever its generated ids hit; the shared ``server`` must not see that.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.server import ServerProcess, base_env, prepare_database
from tests.support.world import login

# Examples per operation in `make test`; `make fuzz` raises it (OPENAPI_FUZZ_EXAMPLES).
FUZZ_EXAMPLES = int(os.environ.get("OPENAPI_FUZZ_EXAMPLES", "8"))


@contextmanager
def live_server(directory: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A ``python wsgi.py`` on a fresh seeded SQLite file: (url, seed)."""
    env = base_env(
        f"sqlite:///{directory / 'switchboard.db'}",
        {
            "TEST_LOG_DIR": str(directory),
            # The fuzzer creates webhooks: the address guard must refuse loopback
            # and private targets (whatever the caller's environment says), and an
            # attempt to a public address it names gives up quickly.
            "WEBHOOK_ALLOW_PRIVATE": "0",
            "WEBHOOK_TIMEOUT": "1",
            "WEBHOOK_MAX_ATTEMPTS": "1",
        },
    )
    seed = prepare_database(env)
    process = ServerProcess(env).start()
    try:
        yield process.url, seed
    finally:
        process.stop()


@dataclass
class Credentials:
    """A demo MSP user's tokens and the Demo MSP tenant's API key, kept working.

    Operations open to both schemes alternate between them, so both paths are
    fuzzed; the fuzzer may log out or revoke what it holds, so both are renewed.
    """

    url: str
    email: str
    password: str
    tenant_id: int
    api_key: str
    access_token: str = ""
    refresh_token: str = ""
    _turn: Iterator[int] = field(default_factory=itertools.count)

    @classmethod
    def from_seed(cls, url: str, seed: dict[str, Any]) -> Credentials:
        """The demo MSP user and the Demo MSP tenant's key."""
        user = next(u for u in seed["users"] if u["role"] == "msp")
        tenant = next(t for t in seed["tenants"] if t["id"] == user["tenant_id"])
        creds = cls(
            url, user["email"], user["password"], tenant["id"], tenant["api_key"]
        )
        creds.log_in()
        return creds

    def log_in(self) -> None:
        """Fresh tokens for the demo user."""
        tokens = login(self.url, self.email, self.password)
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]

    def headers_for(self, operation_id: str, security: list[dict[str, Any]]) -> dict:
        """The credential headers for one generated request."""
        schemes = {name for requirement in security for name in requirement}
        if operation_id == "auth_logout":
            # Logging out revokes the token it is sent with: a throwaway one.
            token = login(self.url, self.email, self.password)["access_token"]
            return {"Authorization": f"Bearer {token}"}
        if operation_id == "auth_refresh":
            return {"Authorization": f"Bearer {self.refresh_token}"}
        use_key = "apiKeyAuth" in schemes and (
            "bearerAuth" not in schemes or next(self._turn) % 2 == 1
        )
        if use_key:
            return {"X-API-Key": self.api_key}
        if "bearerAuth" in schemes:
            return {"Authorization": f"Bearer {self.access_token}"}
        return {}

    def renew_key(self) -> None:
        """A new key for the tenant, should the fuzzer have revoked ours."""
        response = requests.post(
            f"{self.url}/api/tenants/{self.tenant_id}/api-keys",
            json={"name": "fuzz"},
            headers={"Authorization": f"Bearer {self.access_token}"},
            timeout=10,
        )
        response.raise_for_status()
        self.api_key = response.json()["key"]
