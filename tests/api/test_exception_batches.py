"""Bulk actions over the process API: a filter, a dry run with the money preview, entity scoping."""

from __future__ import annotations

from decimal import Decimal

import orjson
from sqlalchemy import select

from handoffs.store.tables import audit_log
from tests.api.conftest import Api, firm

BATCHES = "/v1/process/exception-batches"


def _bad_entry(entity: str) -> dict[str, object]:
    envelope = ("source_system", "source_version")
    [entry] = [orjson.loads(x) for x in firm(entity) if '"time_entry"' in x][:1]
    return {k: v for k, v in entry.items() if k not in envelope} | {"hours": "n/a"}


def test_a_filtered_retry_previews_its_money_then_ignore_stays_in_the_clients_entity(api: Api) -> None:
    envelope = ("source_system", "source_version")
    records = {r["id"]: r for r in (orjson.loads(x) for x in firm("LE-US"))}
    entry = {k: v for k, v in records["TE-00000001"].items() if k not in envelope}
    entry |= {"role": "astronaut", "status": "approved", "approved_by": "M-1"}
    entry |= {"approved_at": "2026-01-31T18:00:00+00:00"}
    assert api.post("/v1/system/objects", {"records": [entry]}).status_code == 200
    api.hub.worker(sleep=lambda s: None).run(until_idle=True)  # no rate for an astronaut: dead letter
    contract = {k: v for k, v in records["K-001"].items() if k not in envelope}
    for version in contract["rate_card"]:
        version["rates"]["astronaut"] = "300.00"
    assert api.post("/v1/system/objects", {"records": [contract]}).status_code == 200
    for key, entity in ((api.us, "LE-US"), (api.admin, "LE-UK")):  # one bad line in each entity
        assert api.post("/v1/system/objects", {"records": [_bad_entry(entity)]}, key=key).status_code == 200

    assert api.post(BATCHES, {"action": "ignore", "filter": {}, "reason": "x"}).status_code == 422
    dry = api.post(BATCHES, {"action": "retry", "filter": {"q": "astronaut"}, "dry_run": True})
    assert dry.status_code == 200, dry.text
    body = dry.json()
    hours = Decimal(entry["hours"])
    assert body["selected"] == 1 and body["changed"] == 0
    assert body["preview"]["replayable"] == 1
    assert Decimal(body["preview"]["priced_value"]["USD"]) == hours * 300
    [dead_id] = body["selected_ids"]
    with api.hub.uow() as uow:
        assert uow.exceptions.get(dead_id).state == "open"  # a dry run changes nothing

    done = api.post(BATCHES, {"action": "retry", "filter": {"ids": [dead_id]}, "reason": "rate added"})
    assert done.status_code == 200, done.text
    assert (done.json()["changed"], done.json()["refused"]) == (1, 0)

    scoped = api.post(
        BATCHES,
        {"action": "ignore", "filter": {"state": "open", "system": "api"}, "reason": "junk"},
        key=api.us,
    )
    assert scoped.status_code == 200, scoped.text
    assert scoped.json()["changed"] == 1  # the LE-UK one is not this client's to see
    with api.hub.uow() as uow:
        states = {x.source: x.state for x in uow.exceptions.list() if x.source.startswith("api:")}
        actions = list(uow.connection.execute(select(audit_log.c.action)).scalars())
        assert uow.exceptions.get(dead_id).state == "retrying"
    assert states == {"api:us-portal": "ignored", "api:admin": "open"}
    for action in ("retry", "ignore"):
        assert f"process.bulk_{action}_exceptions" in actions and f"process.{action}_exception" in actions
