"""schemathesis against the live server, every operation of /openapi.json.

Valid and invalid requests are generated from the document, authenticated as the
demo MSP user (Bearer) or with the Demo MSP key (X-API-Key); every response must be
no 5xx, have a documented status code, and match its documented schema and media
type. Bounded (``FUZZ_EXAMPLES`` per operation); ``make fuzz`` runs a longer pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.openapi import FUZZ_EXAMPLES, Credentials, live_server
from webapp.api.openapi import OPERATIONS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
# OPENAPI_FUZZ_CHECKS=all adds schemathesis' other checks (e.g. valid input that is
# refused, invalid input that is accepted): a wider net for exploring by hand.
ALL_CHECKS = os.environ.get("OPENAPI_FUZZ_CHECKS") == "all"


@pytest.fixture(scope="module")
def fuzz_target(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Credentials]]:
    """A dedicated live server (SQLite) and the credentials the fuzzer uses."""
    with live_server(tmp_path_factory.mktemp("fuzz")) as (url, seed):
        yield url, Credentials.from_seed(url, seed)


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_target: tuple[str, Credentials]) -> Any:
    """The live server's own document: what is served is what is fuzzed."""
    url, _ = fuzz_target
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


# schemathesis' own lazy pytest loader reaches into a pytest private that pytest 9
# removed, so the operations are parametrized here and each one drives Hypothesis.
OPERATION_IDS = sorted(endpoint.replace(".", "_") for endpoint in OPERATIONS)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_every_operation_answers_as_documented(
    operation_id: str, fuzz_target: tuple[str, Credentials], fuzz_schema: Any
) -> None:
    """No 5xx, no undocumented status, no response outside its schema."""
    url, creds = fuzz_target
    operation = fuzz_schema.find_operation_by_id(operation_id)
    security = operation.definition.raw.get("security", [])
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same requests on every run of `make test`
        database=None,
    )
    def fuzz(case: Any) -> None:
        headers = creds.headers_for(operation_id, security)
        response = case.call_and_validate(
            base_url=url, headers=headers, checks=None if ALL_CHECKS else CHECKS
        )
        if operation_id == "tenants_revoke_api_key" and response.status_code == 204:
            creds.renew_key()  # it may have been ours

    fuzz()


def test_the_fuzzer_reaches_past_authentication(
    fuzz_target: tuple[str, Credentials],
) -> None:
    """Both credentials still work after the fuzzing: it tested more than a 401."""
    url, creds = fuzz_target
    by_key = requests.get(
        f"{url}/api/events", headers={"X-API-Key": creds.api_key}, timeout=10
    )
    by_token = requests.get(
        f"{url}/api/auth/me",
        headers={"Authorization": f"Bearer {creds.access_token}"},
        timeout=10,
    )
    assert by_key.status_code == 200, by_key.text
    assert by_token.status_code == 200, by_token.text
    assert by_token.json()["user"]["role"] == "msp"


def test_the_checks_catch_an_undocumented_status(
    fuzz_target: tuple[str, Credentials],
) -> None:
    """The fuzz test can fail: login's 401, once left out of the document, is caught."""
    url, _ = fuzz_target
    document = requests.get(f"{url}/openapi.json", timeout=10).json()
    del document["paths"]["/api/auth/login"]["post"]["responses"]["401"]
    operation = schemathesis.openapi.from_dict(document).find_operation_by_id(
        "auth_login"
    )
    case = operation.Case(body={"email": "nobody@example.com", "password": "wrong"})
    with pytest.raises(FailureGroup, match="1 distinct failure") as caught:
        case.call_and_validate(base_url=url, checks=CHECKS)
    assert "Undocumented status code" in str(caught.value.exceptions[0])


def test_the_fuzz_server_sends_no_webhook_to_loopback_or_unknown_hosts(
    fuzz_target: tuple[str, Credentials],
) -> None:
    """The webhooks the fuzzer may create cannot target this machine or a made-up name.

    The fuzz server runs without WEBHOOK_ALLOW_PRIVATE: its own address is refused,
    and a name that does not resolve (``.invalid`` never does) is refused at once.
    """
    url, creds = fuzz_target
    for target in (f"{url}/api/auth/me", "http://[::1]/", "http://fuzz.invalid/hook"):
        response = requests.post(
            f"{url}/api/tenants/{creds.tenant_id}/webhooks",
            json={"url": target, "events": ["ping"]},
            headers={"Authorization": f"Bearer {creds.access_token}"},
            timeout=10,
        )
        assert response.status_code == 400, (target, response.text)
        assert response.json()["error"]["code"] == "webhook_url_refused"
