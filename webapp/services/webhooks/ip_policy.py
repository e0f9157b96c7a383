"""Which IP addresses a webhook may reach: an explicit deny list, then ``is_global``.

``ipaddress``'s ``is_global`` alone lets through IPv6 forms that carry an IPv4
address inside (6to4, Teredo, NAT64, IPv4-compatible and -translated) and the
deprecated site-local range. Those are unwrapped and the IPv4 address inside is
checked like any other; ranges no webhook may reach are refused by name.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


DENIED_V4 = _nets(
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local (cloud metadata)
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",
    "192.88.99.0/24",  # 6to4 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, broadcast
)
DENIED_V6 = _nets(
    "::/128",
    "::1/128",
    "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): the operator's own network
    "100::/64",  # discard
    "2001:db8::/32",  # documentation
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local (deprecated, still routed by some stacks)
    "ff00::/8",  # multicast
)
# IPv4 in the last 32 bits: IPv4-compatible, -mapped, -translated, NAT64 (/96).
EMBEDDING_LAST_32 = _nets("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (none for a plain one)."""
    if any(address in net for net in EMBEDDING_LAST_32):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)  # the relay server and the client
    return []


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast, and so is every IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in net for net in DENIED_V6):
            return False
        inner = embedded_ipv4(address)
        if inner:
            return all(is_public(v4) for v4 in inner)
    elif any(address in net for net in DENIED_V4):
        return False
    return address.is_global and not address.is_multicast
