"""Webhook rules that need no server: URL policy, signatures, the retry schedule."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from webapp.services.webhooks import retry_policy
from webapp.services.webhooks.address_guard import AddressRefused, is_public, resolve
from webapp.services.webhooks.settings import WebhookSettings
from webapp.services.webhooks.signer import signature_header, verify

PRODUCTION = WebhookSettings(
    timeout=5,
    max_attempts=8,
    backoff_base=30,
    disable_after=86400,
    allow_http=False,
    allow_private=False,
    production=True,
    poll_interval=1,
    lease=30,
    concurrency=8,
    retention=604800,
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:10.0.0.1",
        # IPv6 forms carrying a private IPv4 address, and site-local:
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "fec0::1",  # site-local
        "::ffff:0:a00:1",  # IPv4-translated 10.0.0.1
        "192.0.0.8",
        "198.18.0.1",
    ],
)
def test_private_loopback_link_local_and_reserved_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_public_addresses_are_public() -> None:
    assert is_public(ipaddress.ip_address("93.184.215.14"))
    assert is_public(ipaddress.ip_address("2606:4700::1111"))
    assert is_public(ipaddress.ip_address("::ffff:93.184.215.14"))
    assert is_public(ipaddress.ip_address("2002:5db8:d70e::1"))  # 6to4, public
    assert is_public(ipaddress.ip_address("64:ff9b::808:808"))  # NAT64 of 8.8.8.8


def test_production_takes_https_only_unless_allowed() -> None:
    with pytest.raises(AddressRefused):
        resolve("http://93.184.215.14/hook", PRODUCTION)
    allowed = resolve(
        "http://93.184.215.14/hook?a=1", replace(PRODUCTION, allow_http=True)
    )
    assert (allowed.address, allowed.port, allowed.path) == (
        "93.184.215.14",
        80,
        "/hook?a=1",
    )
    secure = resolve("https://93.184.215.14:8443", PRODUCTION)
    assert (secure.scheme, secure.port, secure.path) == ("https", 8443, "/")


def test_private_targets_need_the_setting() -> None:
    with pytest.raises(AddressRefused):
        resolve("https://127.0.0.1/hook", PRODUCTION)
    local = resolve("https://127.0.0.1/hook", replace(PRODUCTION, allow_private=True))
    assert local.address == "127.0.0.1"


def test_a_signature_verifies_only_with_its_secret_body_and_window() -> None:
    body = b'{"id":"evt_1"}'
    header = signature_header("whsec_a", body, now=1_000_000)
    assert verify("whsec_a", header, body, now=1_000_100)
    assert not verify("whsec_b", header, body, now=1_000_100)
    assert not verify("whsec_a", header, body + b" ", now=1_000_100)
    assert not verify("whsec_a", header, body, now=1_000_301)  # a replay, too late
    assert not verify("whsec_a", "v1=" + header.split("v1=")[1], body)


def test_retries_wait_longer_each_time_and_add_up_to_about_an_hour() -> None:
    for _ in range(50):
        waits = [retry_policy.backoff(n, 30) for n in range(1, 8)]
        assert waits == sorted(waits)
        assert 45 * 60 < sum(waits) < 80 * 60
    assert retry_policy.is_retryable(None) and retry_policy.is_retryable(503)
    assert retry_policy.is_retryable(429) and retry_policy.is_retryable(408)
    assert not retry_policy.is_retryable(404) and not retry_policy.is_retryable(301)
    assert retry_policy.retry_after("120") == 120
    assert retry_policy.retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_policy.retry_after("soon") is None
