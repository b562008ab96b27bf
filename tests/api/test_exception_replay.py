"""Replaying an exception over the process API: a preview that keeps nothing, then the replay."""

from __future__ import annotations

import orjson
from sqlalchemy import select

from handoffs.store.tables import audit_log
from tests.api.conftest import Api, firm, make_key


def test_preview_then_replay_a_dead_lettered_pricing(api: Api) -> None:
    envelope = ("source_system", "source_version")  # who sent it and its version are the hub's to set
    records = [{k: v for k, v in orjson.loads(x).items() if k not in envelope} for x in firm("LE-US")]
    lines = {r["id"]: r for r in records}
    entry = lines["TE-00000001"] | {"role": "astronaut", "status": "approved", "approved_by": "M-1"}
    entry |= {"approved_at": "2026-01-31T18:00:00+00:00"}
    assert api.post("/v1/system/objects", {"records": [entry]}).status_code == 200
    api.hub.worker(sleep=lambda s: None).run(until_idle=True)  # no rate for an astronaut: dead letter
    with api.hub.uow() as uow:
        [dead] = [x for x in uow.exceptions.list() if x.consumer == "time-to-invoice.price"]
    contract = lines["K-001"]
    for version in contract["rate_card"]:
        version["rates"]["astronaut"] = "300.00"
    assert api.post("/v1/system/objects", {"records": [contract]}).status_code == 200
    api.hub.worker(sleep=lambda s: None).run(until_idle=True)

    path = f"/v1/process/exceptions/{dead.id}"
    uk = make_key(api.hub, "uk-only", entities=["LE-UK"], rate=100, burst=100)
    assert api.get(f"{path}/replay-preview", key=uk).status_code == 404  # another entity's exception
    preview = api.get(f"{path}/replay-preview")
    assert preview.status_code == 200, preview.text
    body = preview.json()
    [new] = body["invoices"]
    assert body["failure"] is None and body["entries_priced"] == 1 and new["change"] == "new"
    assert [line["unit_price"] for line in new["lines"]] == ["300.00"]
    with api.hub.uow() as uow:
        assert uow.invoices.get(new["id"]) is None  # nothing was kept

    replayed = api.post(f"{path}/replay", {"reason": "astronaut rate added"})
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["state"] == "resolved" and replayed.json()["work_requeued"] is True
    api.hub.worker(sleep=lambda s: None).run(until_idle=True)
    with api.hub.uow() as uow:
        made = uow.invoices.get(new["id"])
        actions = list(uow.connection.execute(select(audit_log.c.action)).scalars())
    assert made is not None and str(made.total.amount) == new["total"]
    assert "process.replay_exception" in actions
    again = api.post(f"{path}/replay", {"reason": "once more"})
    assert again.status_code == 409  # already resolved
