"""Finding 4: webhook targets cannot reach the hub's own network, when made or when sent,
and a failed delivery says only what failed, never what answered."""

from __future__ import annotations

import ssl
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from handoffs.engine.egress import EgressPolicy
from handoffs.engine.errors import DeliveryFailed
from handoffs.engine.relay import attach, relay_handlers
from handoffs.engine.relay_webhook import WebhookSender, new_secret
from handoffs.store.repositories.subscriptions import Subscription
from tests.api.conftest import LOCAL, Api
from tests.api.servers import free_port, subscriber

PRIVATE_TARGETS = [
    "http://127.0.0.1:9/hook",
    "http://localhost/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.1/hook",
    "http://192.168.0.10:8080/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://2130706433/hook",
    "https://0x7f.1/hook",
]


@pytest.mark.parametrize("target", PRIVATE_TARGETS)
def test_finding_4_ssrf_private_targets_are_refused_when_made(api: Api, target: str) -> None:
    api.hub.settings = replace(api.hub.settings, webhook_allow_networks=())  # no operator allow-list
    r = api.post("/v1/subscriptions", {"kind": "webhook", "target": target})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert api.get("/v1/subscriptions").json() == []


def test_public_and_allowed_targets_are_accepted(api: Api) -> None:
    api.hub.settings = replace(api.hub.settings, webhook_allow_networks=())
    assert (
        api.post("/v1/subscriptions", {"kind": "webhook", "target": "https://93.184.215.14/h"}).status_code
        == 201
    )
    api.hub.settings = replace(api.hub.settings, webhook_allow_networks=("127.0.0.1/32",))
    assert (
        api.post("/v1/subscriptions", {"kind": "webhook", "target": "http://127.0.0.1:9/h"}).status_code
        == 201
    )


def _sub(target: str) -> Subscription:
    from datetime import UTC, datetime

    return Subscription("sub-1", "c", "webhook", target, None, None, new_secret(), True, datetime.now(UTC))


def test_finding_4_ssrf_send_time_check_uses_the_resolved_address() -> None:
    """A name that resolves to loopback at send time (DNS rebinding) is refused; nothing is sent."""
    with subscriber(fail_first=0) as (url, hook):
        port = url.split(":")[2].split("/")[0]
        target = f"http://hooks.example.com:{port}/events"
        rebound = WebhookSender(policy=EgressPolicy(resolver=lambda host, p: ["127.0.0.1"]))
        with pytest.raises(DeliveryFailed, match="not one the hub may send to"):
            rebound.send(_sub(target), {"id": "m-1"}, b"{}")
        assert hook.attempts == []
        # Allowed, the request goes to the address that was checked, under the subscriber's name.
        pinned = WebhookSender(
            policy=EgressPolicy(
                LOCAL.allow, resolver=lambda host, p: ["127.0.0.1"] if host == "hooks.example.com" else []
            )
        )
        pinned.send(_sub(target), {"id": "m-2"}, b"{}")
        rebound.close()
        pinned.close()
    assert [h["Host"] for h, _ in hook.accepted] == [f"hooks.example.com:{port}"]


def test_finding_4_ssrf_delivery_errors_are_generic(api: Api) -> None:
    """What a delivery records is ``HTTP 503`` or ``connection failed``, and a target the
    policy now refuses is refused at send time although it was allowed when made."""
    closed = f"http://127.0.0.1:{free_port()}/hook"
    with subscriber(fail_first=10**6) as (failing, hook):
        subs = {
            name: api.post(
                "/v1/subscriptions", {"kind": "webhook", "target": t, "event_types": ["TimeEntryApproved"]}
            ).json()["id"]
            for name, t in (("failing", failing), ("closed", closed))
        }
        sender = WebhookSender(policy=LOCAL)
        attach(api.hub, relay_handlers([sender]))
        api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001"]})
        api.hub.worker(sleep=lambda s: time.sleep(min(s, 0.01))).run(until_idle=True)
        sender.close()
        assert hook.attempts
    errors = {
        name: {d["last_error"] for d in api.get(f"/v1/subscriptions/{sub}/deliveries").json()}
        for name, sub in subs.items()
    }
    assert errors == {"failing": {"HTTP 503"}, "closed": {"connection failed"}}


def test_finding_4_ssrf_a_target_refused_at_send_time_records_why(api: Api) -> None:
    with subscriber(fail_first=0) as (url, hook):
        sub = api.post(
            "/v1/subscriptions", {"kind": "webhook", "target": url, "event_types": ["TimeEntryApproved"]}
        ).json()
        sender = WebhookSender(policy=EgressPolicy())  # the operator has since withdrawn 127.0.0.1
        attach(api.hub, relay_handlers([sender]))
        api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001"]})
        api.hub.worker(sleep=lambda s: time.sleep(min(s, 0.01))).run(until_idle=True)
        sender.close()
    assert hook.attempts == []
    [delivery] = api.get(f"/v1/subscriptions/{sub['id']}/deliveries").json()
    assert delivery["status"] == "dead"
    assert delivery["last_error"] == "the target's address is not one the hub may send to"


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (key and certificate PEM files)."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def test_finding_4_ssrf_https_to_the_pinned_address_verifies_the_subscribers_name(tmp_path: Path) -> None:
    """Over TLS the pinned request still checks the certificate against the subscriber's host
    name (not the address), so pinning does not weaken verification."""
    key_file, cert_file = _certificate(tmp_path, "hooks.example.com")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    with subscriber(fail_first=0, tls=server_tls) as (url, hook):
        port = url.split(":")[2].split("/")[0]
        policy = EgressPolicy(LOCAL.allow, resolver=lambda host, p: ["127.0.0.1"])
        trusting = httpx.Client(verify=ssl.create_default_context(cafile=str(cert_file)))
        sender = WebhookSender(trusting, policy=policy)
        sender.send(_sub(f"https://hooks.example.com:{port}/events"), {"id": "m-1"}, b"{}")
        with pytest.raises(DeliveryFailed, match="connection failed"):  # the certificate names another host
            sender.send(_sub(f"https://other.example.com:{port}/events"), {"id": "m-2"}, b"{}")
        sender.close()
    assert [h["Host"] for h, _ in hook.accepted] == [f"hooks.example.com:{port}"]
