"""End to end over real HTTP: an approval through the process API reaches a webhook subscriber
and a NATS JetStream subscriber exactly once each, although each fails its first attempt."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from standardwebhooks import Webhook

from handoffs.api import create_app
from handoffs.engine.relay import attach, relay_handlers
from handoffs.engine.relay_nats import STREAM, NatsSender
from handoffs.engine.relay_webhook import WebhookSender
from tests.api.conftest import LOCAL, Api
from tests.api.servers import nats_server, serve_api, subscriber


async def _consume(url: str) -> tuple[list[Any], int]:
    """Pull from JetStream: refuse (nak) the first delivery, ack the redelivery; count what is stored."""
    import nats

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe("handoffs.e2e.>", durable="e2e-subscriber")
        first = (await sub.fetch(1, timeout=10))[0]
        await first.nak()
        again = (await sub.fetch(1, timeout=10))[0]
        await again.ack()
        received = [first, again]
        with contextlib.suppress(nats.errors.TimeoutError):
            received += await sub.fetch(1, timeout=1)
        stored = (await js.stream_info(STREAM)).state.messages
        return received, stored
    finally:
        await nc.close()


def _drain(api: Api) -> None:
    api.hub.worker(sleep=lambda s: time.sleep(min(s, 0.05))).run(until_idle=True)


def test_approval_reaches_webhook_and_nats_exactly_once(api: Api, tmp_path: Path) -> None:
    with nats_server(tmp_path) as nats_url, subscriber(fail_first=1) as (hook_url, hook):
        nats_sender, web_sender = NatsSender(nats_url), WebhookSender(policy=LOCAL)
        attach(api.hub, relay_handlers([web_sender, nats_sender]))
        try:
            with serve_api(create_app(api.hub)) as base, httpx.Client(base_url=base) as http:
                _run(api, http, hook_url, hook, nats_url)
        finally:
            nats_sender.close()
            web_sender.close()


def _post(http: httpx.Client, api: Api, path: str, body: Any, key: str) -> Any:
    r = http.post(path, json=body, headers={"Authorization": f"Bearer {api.us}", "Idempotency-Key": key})
    assert r.status_code < 300, r.text
    return r.json()


def _run(api: Api, http: httpx.Client, hook_url: str, hook: Any, nats_url: str) -> None:
    only = ["TimeEntryApproved"]
    web = _post(
        http, api, "/v1/subscriptions", {"kind": "webhook", "target": hook_url, "event_types": only}, "s1"
    )
    nats_sub = _post(
        http, api, "/v1/subscriptions", {"kind": "nats", "target": "handoffs.e2e", "event_types": only}, "s2"
    )
    approved = _post(http, api, "/v1/process/time-approvals", {"entry_ids": ["TE-00000001"]}, "a1")
    assert approved["approvals_published"] == 1
    _post(http, api, "/v1/process/time-approvals", {"entry_ids": ["TE-00000001"]}, "a1")  # a client retry
    _drain(api)

    # Webhook: one refused attempt, then exactly one accepted delivery, signed and a valid CloudEvent.
    assert len(hook.attempts) == 2 and len(hook.accepted) == 1
    headers, body = hook.accepted[0]
    event = orjson.loads(body)
    assert {"id", "source", "specversion", "type", "time", "subject", "data"} <= set(event)
    assert event["specversion"] == "1.0" and event["type"] == "dev.handoffs.TimeEntryApproved.v1"
    assert (
        event["data"]["entry_id"] == "TE-00000001"
        and headers["Content-Type"] == "application/cloudevents+json"
    )
    # Verified as any subscriber would, with the Standard Webhooks library and the secret as shown.
    assert Webhook(web["secret"]).verify(body, dict(headers)) == event
    assert hook.attempts[0][0]["Webhook-Id"] == headers["Webhook-Id"] == event["id"]

    # Redeliver to NATS: the republish carries the same Nats-Msg-Id, so JetStream stores it once.
    redo = _post(
        http, api, f"/v1/subscriptions/{nats_sub['id']}/redeliveries", {"message_id": event["id"]}, "r1"
    )
    assert redo["status"] == "pending"
    _drain(api)
    received, stored = asyncio.run(_consume(nats_url))
    assert stored == 1
    assert [orjson.loads(m.data)["id"] for m in received] == [
        event["id"],
        event["id"],
    ]  # nak'd, then redelivered
    assert received[1].metadata.num_delivered == 2
    assert received[0].headers["Nats-Msg-Id"] == f"{nats_sub['id']}:{event['id']}"

    deliveries = http.get(
        f"/v1/subscriptions/{web['id']}/deliveries", headers={"Authorization": f"Bearer {api.us}"}
    ).json()
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 2)]
    republished = http.get(
        f"/v1/subscriptions/{nats_sub['id']}/deliveries", headers={"Authorization": f"Bearer {api.us}"}
    ).json()
    assert [(d["status"], d["attempts"]) for d in republished] == [("delivered", 2)]


def test_a_failing_subscriber_is_dead_lettered_alone_and_can_be_redelivered(api: Api) -> None:
    sender = WebhookSender(policy=LOCAL)
    attach(api.hub, relay_handlers([sender]))
    with subscriber(fail_first=10**6) as (bad_url, bad), subscriber(fail_first=0) as (good_url, good):
        only = ["TimeEntryApproved"]
        bad_sub = api.post(
            "/v1/subscriptions", {"kind": "webhook", "target": bad_url, "event_types": only}
        ).json()
        api.post("/v1/subscriptions", {"kind": "webhook", "target": good_url, "event_types": only})
        api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001"]})
        _drain(api)
        dead = api.get(f"/v1/subscriptions/{bad_sub['id']}/deliveries", status="dead").json()
        assert len(dead) == 1 and dead[0]["attempts"] == 4  # the hub's max_attempts
        assert len(bad.attempts) == 4
        # The good subscriber got each event once, never again while the bad one was retried.
        ids = [orjson.loads(b)["id"] for _, b in good.accepted]
        assert len(ids) == len(set(ids)) and dead[0]["message_id"] in ids
        bad.fail_first = 0
        redo = api.post(
            f"/v1/subscriptions/{bad_sub['id']}/redeliveries", {"message_id": dead[0]["message_id"]}
        )
        assert redo.status_code == 202
        _drain(api)
        assert [orjson.loads(b)["id"] for _, b in bad.accepted] == [dead[0]["message_id"]]
        assert [orjson.loads(b)["id"] for _, b in good.accepted].count(dead[0]["message_id"]) == 1
    sender.close()


def test_an_entity_scoped_subscriber_gets_only_its_entitys_events(api: Api) -> None:
    from tests.api.conftest import make_key

    sender = WebhookSender(policy=LOCAL)
    attach(api.hub, relay_handlers([sender]))
    uk = make_key(api.hub, "uk-portal", entities=["LE-UK"], rate=1000, burst=1000)
    with subscriber(fail_first=0) as (uk_url, uk_hook), subscriber(fail_first=0) as (us_url, us_hook):
        assert api.post("/v1/subscriptions", {"kind": "webhook", "target": uk_url}, key=uk).status_code == 201
        assert (
            api.post("/v1/subscriptions", {"kind": "webhook", "target": us_url}, key=api.us).status_code
            == 201
        )
        api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001", "TE-90000001"]})
        _drain(api)
    sender.close()
    subjects = {
        name: sorted(orjson.loads(b).get("subject", "") for _, b in hook.accepted)
        for name, hook in (("uk", uk_hook), ("us", us_hook))
    }
    assert "TE-90000001" in subjects["uk"] and "TE-00000001" not in subjects["uk"]
    assert "TE-00000001" in subjects["us"] and "TE-90000001" not in subjects["us"]


def test_the_nats_duplicate_window_is_a_setting(api: Api, tmp_path: Path) -> None:
    """HANDOFFS_NATS_DUPLICATE_WINDOW sets the stream's window, also on a stream made before."""
    import pytest

    from handoffs.engine.relay import relays_from_env
    from handoffs.engine.relay_nats import DEFAULT_DUPLICATE_WINDOW, duplicate_window_from

    async def window(url: str) -> float:
        import nats

        nc = await nats.connect(url)
        try:
            return float((await nc.jetstream().stream_info(STREAM)).config.duplicate_window)
        finally:
            await nc.close()

    with nats_server(tmp_path) as nats_url:
        for seconds in ("30", "45.5"):
            env = {"HANDOFFS_EVENTS_OUT": "nats", "HANDOFFS_NATS_URL": nats_url}
            handlers = relays_from_env(env | {"HANDOFFS_NATS_DUPLICATE_WINDOW": seconds})
            sender = handlers[0].call.__self__._sender  # type: ignore[union-attr]
            sender._run(sender._connect())
            assert asyncio.run(window(nats_url)) == float(seconds)
            sender.close()
    assert duplicate_window_from(None) == DEFAULT_DUPLICATE_WINDOW == 120.0
    with pytest.raises(ValueError, match="HANDOFFS_NATS_DUPLICATE_WINDOW must be a number"):
        duplicate_window_from("two minutes")
