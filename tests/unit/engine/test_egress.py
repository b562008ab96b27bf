"""Which addresses webhooks may reach (finding 4: subscription targets as an SSRF door)."""

from __future__ import annotations

import pytest

from handoffs.engine.egress import EgressPolicy, TargetRefused, endpoint, parse_networks

REFUSED = [
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "0.0.0.0",  # unspecified
    "10.1.2.3",  # RFC 1918
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # CGNAT
    "169.254.169.254",  # link-local: cloud metadata
    "224.0.0.1",  # multicast
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",  # IPv6 link-local
    "fd00::1",  # unique-local
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
]


@pytest.mark.parametrize("address", REFUSED)
def test_finding_4_ssrf_non_public_addresses_are_refused(address: str) -> None:
    assert not EgressPolicy().permits(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "::ffff:93.184.215.14"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert EgressPolicy().permits(address)


def test_an_operator_allow_list_admits_its_networks_only() -> None:
    policy = EgressPolicy(parse_networks("127.0.0.1/32, 10.9.0.0/16"))
    assert policy.permits("127.0.0.1") and policy.permits("10.9.3.4") and policy.permits("::ffff:127.0.0.1")
    assert not policy.permits("127.0.0.2") and not policy.permits("10.8.0.1")
    with pytest.raises(ValueError, match="HANDOFFS_WEBHOOK_ALLOW_NETWORKS"):
        parse_networks("localhost")


def test_finding_4_ssrf_every_resolved_address_must_be_allowed() -> None:
    """A name that answers with a public and a private address is refused, not tried."""
    mixed = EgressPolicy(resolver=lambda host, port: ["93.184.215.14", "10.0.0.5"])
    with pytest.raises(TargetRefused, match="not one the hub may send to"):
        mixed.resolve("hooks.example.com", 443)
    public = EgressPolicy(resolver=lambda host, port: ["93.184.215.14"])
    assert public.resolve("hooks.example.com", 443) == "93.184.215.14"


def test_finding_4_ssrf_numeric_host_spellings_are_refused_when_made() -> None:
    """``127.1``, ``2130706433`` and ``0x7f.1`` are all 127.0.0.1 to the system resolver."""
    for url in (
        "http://127.1/x",
        "http://2130706433/x",
        "http://0x7f.1/x",
        "http://0/x",
        "http://localhost/x",
    ):
        with pytest.raises(TargetRefused):
            EgressPolicy().screen(url)
    EgressPolicy(resolver=lambda host, port: []).screen(
        "https://not-yet-in-dns.example/x"
    )  # send time decides


def test_endpoint_defaults_the_port_by_scheme() -> None:
    assert endpoint("https://hooks.example.com/x") == ("hooks.example.com", 443)
    assert endpoint("http://hooks.example.com:8080/x") == ("hooks.example.com", 8080)
