"""Password guessing is throttled: 429 after repeated failures (architecture §5)."""

from __future__ import annotations

import os
import time
import uuid

from tests.conftest import require_service
from tests.support.server import ServerFactory
from tests.support.world import Api, build_world
from webapp.services.tenancy.login_throttle import RedisFailureCounter


def _login(url: str, email: str, password: str) -> int:
    response = Api(url).post(
        "/api/auth/login", json={"email": email, "password": password}
    )
    if response.status_code == 429:
        assert response.json()["error"]["code"] == "rate_limited"
        assert int(response.headers["Retry-After"]) > 0
    return response.status_code


def test_repeated_failed_logins_are_answered_429_until_the_window_passes(
    server_factory: ServerFactory,
) -> None:
    live = server_factory({"LOGIN_MAX_FAILURES": "3", "LOGIN_FAILURE_WINDOW": "2"})
    world = build_world(live.url, live.seed)
    victim, other = world.user_a, world.user_b
    assert [_login(live.url, victim.email, "wrong") for _ in range(3)] == [401] * 3
    # Locked out: even the right password is refused while the window lasts.
    assert _login(live.url, victim.email, victim.password) == 429
    assert _login(live.url, other.email, other.password) == 200  # others unaffected
    time.sleep(2.2)
    assert _login(live.url, victim.email, victim.password) == 200


def test_a_successful_login_clears_the_failures(server_factory: ServerFactory) -> None:
    live = server_factory({"LOGIN_MAX_FAILURES": "3", "LOGIN_FAILURE_WINDOW": "60"})
    world = build_world(live.url, live.seed)
    member = world.user_a
    for _ in range(2):
        assert _login(live.url, member.email, "wrong") == 401
    assert _login(live.url, member.email, member.password) == 200
    for _ in range(2):
        assert _login(live.url, member.email, "wrong") == 401
    assert _login(live.url, member.email, member.password) == 200


def test_the_redis_counter_is_shared_and_expires() -> None:
    url = require_service("Redis", os.environ.get("TEST_REDIS_URL"))
    prefix = f"sb-test-{uuid.uuid4().hex[:8]}:login:"
    one, two = RedisFailureCounter(url, prefix), RedisFailureCounter(url, prefix)
    assert one.add("k", 1) == 1
    assert two.add("k", 1) == 2  # another process sees the same count
    assert one.count("k") == 2
    time.sleep(1.2)
    assert two.count("k") == 0
    one.add("k", 60)
    one.clear("k")
    assert two.count("k") == 0


def test_behind_a_trusted_proxy_each_client_address_is_counted_apart(
    server_factory: ServerFactory,
) -> None:
    live = server_factory(
        {"LOGIN_MAX_FAILURES": "2", "LOGIN_FAILURE_WINDOW": "60", "PROXY_FIX_HOPS": "1"}
    )
    world = build_world(live.url, live.seed)
    member = world.user_a

    def attempt(address: str, password: str) -> int:
        return (
            Api(live.url)
            .post(
                "/api/auth/login",
                json={"email": member.email, "password": password},
                headers={"X-Forwarded-For": address},
            )
            .status_code
        )

    assert [attempt("203.0.113.7", "wrong") for _ in range(2)] == [401, 401]
    assert attempt("203.0.113.7", member.password) == 429  # the guesser is locked out
    assert attempt("198.51.100.9", member.password) == 200  # the owner is not
