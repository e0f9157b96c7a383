"""One HTTP attempt: POST the signed body to the checked address, read a prefix.

urllib3 directly (requests' own transport): it lets the sender connect to the
address the guard checked while the Host header and the TLS name stay the URL's
host. Its sockets are the (monkey-patched) standard ones, so under eventlet or
gevent an attempt yields to the hub instead of blocking it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import HTTPError

from webapp.services.webhooks.address_guard import AddressRefused, Target, resolve
from webapp.services.webhooks.deadline import (
    Watchdog,
    WatchedHTTPConnection,
    WatchedHTTPSConnection,
)
from webapp.services.webhooks.settings import WebhookSettings
from webapp.services.webhooks.signer import (
    ID_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)

RESPONSE_PREFIX_BYTES = 512  # what the delivery log keeps of a response body
USER_AGENT = "Switchboard-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status, or an error (network, timeout, refused)."""

    status: int | None
    error: str | None
    duration: float
    response: str = ""
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def deadline_of(settings: WebhookSettings) -> float:
    """An attempt's wall-clock limit, whatever the receiver does (2 × the timeout)."""
    return 2 * settings.timeout


def _pool(
    target: Target, settings: WebhookSettings, watchdog: Watchdog
) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(
        connect=settings.timeout, read=settings.timeout, total=deadline_of(settings)
    )
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            assert_hostname=target.host,
            server_hostname=target.host,
            watchdog=watchdog,  # passed on to the connection class
        )
        pool.ConnectionCls = WatchedHTTPSConnection
        return pool
    pool = urllib3.HTTPConnectionPool(
        target.address,
        target.port,
        timeout=timeout,
        retries=False,
        maxsize=1,
        watchdog=watchdog,
    )
    pool.ConnectionCls = WatchedHTTPConnection
    return pool


def post(
    url: str,
    secrets: Sequence[str],
    event_id: str,
    body: bytes,
    attempt: int,
    settings: WebhookSettings,
) -> Outcome:
    """Make one attempt; never raises for the receiver's or the network's faults."""
    started = time.monotonic()
    try:
        target = resolve(url, settings)  # now, at send time: DNS may have changed
    except AddressRefused as exc:
        return Outcome(None, f"refused: {exc.message}", time.monotonic() - started)
    headers = {
        "Host": _host_header(target),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        ID_HEADER: event_id,
        "Switchboard-Webhook-Attempt": str(attempt),
        SIGNATURE_HEADER: signature_header(secrets, body),
    }
    watchdog = Watchdog(deadline_of(settings))
    pool = _pool(target, settings, watchdog)
    try:
        with watchdog:
            return _send(pool, target, body, headers, started)
    except (HTTPError, OSError) as exc:
        if watchdog.fired:
            limit = deadline_of(settings)
            return Outcome(
                None,
                f"timed out: no complete answer within {limit:g} s",
                time.monotonic() - started,
            )
        return Outcome(
            None, f"{type(exc).__name__}: {exc}"[:200], time.monotonic() - started
        )
    finally:
        pool.close()


def _send(
    pool: urllib3.HTTPConnectionPool,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    started: float,
) -> Outcome:
    """POST and read at most a prefix of the answer (http.client caps the headers)."""
    response = pool.urlopen(
        "POST",
        target.path,
        body=body,
        headers=headers,
        redirect=False,
        preload_content=False,
        assert_same_host=False,
    )
    try:
        prefix = response.read(RESPONSE_PREFIX_BYTES, decode_content=False)
    except HTTPError:
        prefix = b""
    finally:
        response.release_conn()
    return Outcome(
        response.status,
        None,
        time.monotonic() - started,
        prefix.decode("utf-8", "replace"),
        response.headers.get("Retry-After"),
    )
