"""Which webhook URLs may be called: scheme, and never a private address.

Checked when a webhook is saved (a clear 400) and again at every send, on the
addresses the name resolves to *then*: the sender connects to the checked address
itself, so DNS cannot move a target inside between the check and the connect.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from webapp.errors import ValidationFailed
from webapp.services.webhooks.ip_policy import is_public
from webapp.services.webhooks.settings import WebhookSettings

__all__ = ["AddressRefused", "Target", "is_public", "parse_url", "resolve"]


class AddressRefused(ValidationFailed):
    """The URL or the address it resolves to is not allowed (400)."""

    code = "webhook_url_refused"


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect, and what to call the host."""

    scheme: str
    host: str  # as written in the URL (Host header, TLS server name)
    port: int
    path: str  # path and query
    address: str  # the checked IP address to connect to


def parse_url(url: str, settings: WebhookSettings) -> SplitResult:
    """Split and check the URL's form and scheme (no DNS)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise AddressRefused(
            "the url is malformed", details=[{"field": "url"}]
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused(
            "the url must be http(s)://host/...", details=[{"field": "url"}]
        )
    if parts.username or parts.password:
        raise AddressRefused(
            "the url must not carry credentials", details=[{"field": "url"}]
        )
    if parts.scheme == "http" and settings.production and not settings.allow_http:
        raise AddressRefused(
            "only https urls are allowed (WEBHOOK_ALLOW_HTTP=1 allows http)",
            details=[{"field": "url"}],
        )
    return parts


def resolve(url: str, settings: WebhookSettings) -> Target:
    """Check the URL and resolve its host now; the address to connect to."""
    parts = parse_url(url, settings)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefused(
            f"the host {host!r} does not resolve", details=[{"field": "url"}]
        ) from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise AddressRefused(
            f"the host {host!r} does not resolve", details=[{"field": "url"}]
        )
    if not settings.allow_private:
        # Every address must be public: a name resolving to one public and one
        # private address could otherwise be steered inside by the resolver.
        refused = [str(a) for a in addresses if not is_public(a)]
        if refused:
            raise AddressRefused(
                "the url points at a private, loopback or link-local address"
                " (WEBHOOK_ALLOW_PRIVATE=1 allows it)",
                details=[{"field": "url", "addresses": refused}],
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, str(addresses[0]))
