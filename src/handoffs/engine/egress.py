"""Where the hub may send webhooks: public addresses only, unless an operator allows a network.

A subscriber's URL is chosen by an API client, so without this check the hub would post
(and report on) whatever answers inside its own network: loopback, link-local and cloud
metadata (169.254.169.254), RFC 1918, CGNAT, IPv6 unique-local, ``0.0.0.0`` and IPv6
forms that carry an IPv4 address (``::ffff:10.0.0.1``, 6to4, NAT64). Only addresses the
standard library's :mod:`ipaddress` calls global (and not multicast) are allowed, plus the
networks named in ``HANDOFFS_WEBHOOK_ALLOW_NETWORKS``.

The check runs when a subscription is made and again at every send, on the addresses the
name resolves to then; the sender connects to the address that was checked, so a name
that changes its answer in between (DNS rebinding) cannot redirect the request.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["ALLOW_ENV", "EgressPolicy", "TargetRefused", "TargetUnresolved", "endpoint", "parse_networks"]

ALLOW_ENV = "HANDOFFS_WEBHOOK_ALLOW_NETWORKS"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class TargetRefused(Exception):
    """The target is not an address the hub may send to (the message is safe to show)."""


class TargetUnresolved(TargetRefused):
    """The target's host name has no address (the resolver's own message is not kept)."""


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    """Networks from ``"127.0.0.1/32, 10.1.0.0/16"`` (a bare address is its own network)."""
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())
    except ValueError as exc:
        raise ValueError(f"{ALLOW_ENV}: {exc}") from None


def endpoint(url: str) -> tuple[str, int]:
    """The host and port an ``http(s)`` URL connects to."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise TargetRefused("the target's port is not valid") from None
    return parts.hostname or "", port or (443 if parts.scheme == "https" else 80)


def _embedded(address: Address) -> Address:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _public(address: Address) -> bool:
    return all(a.is_global and not a.is_multicast for a in (address, _embedded(address)))


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which addresses webhooks may reach: public ones, and the ``allow`` networks."""

    allow: tuple[Network, ...] = ()
    resolver: Resolver = _system_resolver

    @classmethod
    def allowing(cls, networks: str | Iterable[str]) -> EgressPolicy:
        """Public addresses and ``networks`` (CIDR text, comma- or space-separated)."""
        return cls(parse_networks(networks))

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        inner = _embedded(ip)
        if any(ip in net or inner in net for net in self.allow):
            return True
        return _public(ip)

    def resolve(self, host: str, port: int) -> str:
        """The address to connect to; raises :class:`TargetRefused` if any answer is refused.

        Every address the name resolves to must be allowed, so a name that mixes a public
        and a private answer is refused rather than tried.
        """
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError):
            raise TargetUnresolved("the target's host name did not resolve") from None
        if not addresses:
            raise TargetUnresolved("the target's host name did not resolve")
        if not all(self.permits(a) for a in addresses):
            raise TargetRefused("the target's address is not one the hub may send to")
        return addresses[0]

    def screen(self, url: str) -> None:
        """Refuse a target URL when it is made: its host is or resolves to a refused address.

        A name that does not resolve (yet) is accepted here; the send-time check decides.
        """
        try:
            self.resolve(*endpoint(url))
        except TargetUnresolved:
            return
