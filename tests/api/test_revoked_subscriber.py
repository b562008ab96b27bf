"""Finding 3: a revoked client's subscriptions receive nothing more, events already queued
included, and why is recorded."""

from __future__ import annotations

from sqlalchemy import select

from handoffs.api.clients import revoke_key
from handoffs.engine.relay import CLIENT_REVOKED, attach, relay_handlers
from handoffs.engine.relay_webhook import WebhookSender
from handoffs.store.repositories.api_clients import ApiClientRepository
from handoffs.store.repositories.subscriptions import SubscriptionRepository
from handoffs.store.tables import audit_log
from tests.api.conftest import LOCAL, Api, make_key
from tests.api.servers import subscriber

ONLY = ["TimeEntryApproved"]


def _drain(api: Api) -> None:
    api.hub.worker(sleep=lambda s: None).run(until_idle=True)


def _key_id(secret: str) -> str:
    return secret.split("_")[2]


def test_finding_3_revoking_a_clients_last_key_ends_its_subscriptions(api: Api) -> None:
    sender = WebhookSender(policy=LOCAL)
    attach(api.hub, relay_handlers([sender]))
    portal = make_key(api.hub, "portal", entities=["LE-US"], rate=1000, burst=1000)
    with subscriber(0) as (url, hook), subscriber(0) as (other_url, other):
        sub = api.post(
            "/v1/subscriptions", {"kind": "webhook", "target": url, "event_types": ONLY}, key=portal
        )
        api.post(
            "/v1/subscriptions", {"kind": "webhook", "target": other_url, "event_types": ONLY}, key=api.us
        )
        api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001"]})  # queued, not yet sent
        with api.hub.uow() as uow:
            assert revoke_key(uow, "operator:test", _key_id(portal))
            uow.commit()
        _drain(api)
    sender.close()
    assert hook.attempts == [] and len(other.accepted) == 1
    with api.hub.uow() as uow:
        stored = SubscriptionRepository(uow.connection, uow.now).get(sub.json()["id"])
        audits = uow.connection.execute(
            select(audit_log.c.action, audit_log.c.target, audit_log.c.after).where(
                audit_log.c.action == "events.unsubscribe"
            )
        ).all()
    assert stored is not None and not stored.active
    assert [(a.target, CLIENT_REVOKED in str(a.after)) for a in audits] == [
        (f"subscription:{stored.id}", True)
    ]


def test_finding_3_a_revoked_client_is_not_sent_to_at_send_time(api: Api) -> None:
    """A key revoked without ending the subscriptions (an older hub, a direct change) still
    stops deliveries: the relay checks the client when it sends, and records why."""
    sender = WebhookSender(policy=LOCAL)
    attach(api.hub, relay_handlers([sender]))
    portal = make_key(api.hub, "portal", entities=["LE-US"], rate=1000, burst=1000)
    with subscriber(0) as (url, hook):
        sub = api.post(
            "/v1/subscriptions", {"kind": "webhook", "target": url, "event_types": ONLY}, key=portal
        ).json()
        api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001"]})
        with api.hub.uow() as uow:
            assert ApiClientRepository(uow.connection, uow.now).revoke_key(_key_id(portal))
            uow.commit()
        _drain(api)
    sender.close()
    assert hook.attempts == []
    with api.hub.uow() as uow:
        deliveries = SubscriptionRepository(uow.connection, uow.now).list_deliveries(sub["id"])
    assert [(d.status, d.attempts, d.last_error) for d in deliveries] == [("dead", 0, CLIENT_REVOKED)]


def test_a_client_with_another_live_key_keeps_its_subscriptions(api: Api) -> None:
    from handoffs.api.clients import rotate_key

    portal = make_key(api.hub, "portal", entities=["LE-US"], rate=1000, burst=1000)
    sub = api.post(
        "/v1/subscriptions", {"kind": "webhook", "target": "http://127.0.0.1:9/h"}, key=portal
    ).json()
    with api.hub.uow() as uow:
        new = rotate_key(uow, "operator:test", "portal")
        assert revoke_key(uow, "operator:test", _key_id(portal))
        uow.commit()
    assert api.get(f"/v1/subscriptions/{sub['id']}", key=new.secret).json()["active"] is True
