"""Finding 4: webhook targets cannot reach the hub's own network, when made or when sent,
and a failed delivery says only what failed, never what answered."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from handoffs.engine.egress import EgressPolicy
from handoffs.engine.errors import DeliveryFailed
from handoffs.engine.relay import attach, relay_handlers
from handoffs.engine.relay_webhook import WebhookSender
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

    return Subscription("sub-1", "c", "webhook", target, None, None, "whsec_x", True, datetime.now(UTC))


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
