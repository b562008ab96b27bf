"""Finding 12 (first half): a secret shown once is not kept in the idempotency store, so a
repeated ``Idempotency-Key`` answers the same change without showing the secret again."""

from __future__ import annotations

from sqlalchemy import select

from handoffs.store.tables import audit_log, idempotency_keys
from tests.api.conftest import Api


def _stored_text(api: Api) -> str:
    with api.hub.uow() as uow:
        bodies = uow.connection.execute(select(idempotency_keys.c.body)).scalars().all()
        audits = uow.connection.execute(select(audit_log)).all()
    return "\n".join([*bodies, *(str(tuple(r)) for r in audits)])


def test_finding_12_idempotency_replay_does_not_return_the_webhook_secret(api: Api) -> None:
    body = {"kind": "webhook", "target": "http://127.0.0.1:9/hook"}
    first = api.post("/v1/subscriptions", body, key=api.us, idem_key="sub-once")
    assert first.status_code == 201 and first.json()["secret"].startswith("whsec_")
    again = api.post("/v1/subscriptions", body, key=api.us, idem_key="sub-once")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {**first.json(), "secret": None}
    assert first.json()["secret"] not in _stored_text(api)


def test_finding_12_idempotency_replay_does_not_return_the_receiver_secret(api: Api) -> None:
    first = api.post("/v1/system/webhooks/harvest/secret", {}, idem_key="rx-once")
    assert first.status_code == 200 and first.json()["secret"].startswith("whsec_")
    again = api.post("/v1/system/webhooks/harvest/secret", {}, idem_key="rx-once")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {"system": "harvest", "secret": None}
    assert first.json()["secret"] not in _stored_text(api)
