"""Finding 1: an imported invoice bills only known records of its own project and legal entity."""

from __future__ import annotations

import orjson

from handoffs.domain.catalog import decode_record
from handoffs.flows.ingest import ingest_lines
from tests.api.conftest import Api
from tests.api.invoices import invoice

US_ENTRY, UK_ENTRY, MISSING = "TE-00000001", "TE-90000001", "TE-00000999"


def _billing_state(api: Api, entry_id: str) -> str:
    r = api.get(f"/v1/system/objects/time_entry/{entry_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["billing_state"])


def test_finding_1_import_refuses_sources_of_another_entity_like_missing_ones(api: Api) -> None:
    foreign = api.post(
        "/v1/system/objects", {"records": [invoice("INV-L1", [("time_entry", UK_ENTRY)])]}, api.us
    )
    missing = api.post(
        "/v1/system/objects", {"records": [invoice("INV-L1", [("time_entry", MISSING)])]}, api.us
    )
    assert foreign.status_code == missing.status_code == 404, (foreign.text, missing.text)
    assert foreign.json()["detail"] == missing.json()["detail"]  # nothing to enumerate ids with
    assert UK_ENTRY not in foreign.text
    assert _billing_state(api, UK_ENTRY) != "billed"
    with api.hub.uow() as uow:
        assert uow.invoices.get("INV-L1") is None


def test_finding_1_import_refuses_a_project_of_another_entity(api: Api) -> None:
    # the invoice claims LE-US but bills the UK project's own entries
    record = invoice("INV-L2", [("time_entry", UK_ENTRY)], entity="LE-US", project="P-901")
    r = api.post("/v1/system/objects", {"records": [record]}, api.us)
    assert r.status_code == 404, r.text
    r = api.post("/v1/system/objects", {"records": [record]})  # not even firm-wide: it is inconsistent
    assert r.status_code == 404, r.text
    assert _billing_state(api, UK_ENTRY) != "billed"


def test_finding_1_import_of_its_own_project_still_bills(api: Api) -> None:
    r = api.post("/v1/system/objects", {"records": [invoice("INV-L3", [("time_entry", US_ENTRY)])]}, api.us)
    assert r.status_code == 200, r.text
    assert r.json()["outcomes"] == {"inserted": 1}
    assert _billing_state(api, US_ENTRY) == "billed"


def test_finding_1_file_and_webhook_path_refuses_foreign_sources_too(api: Api) -> None:
    lines = [orjson.dumps(invoice("INV-L4", [("time_entry", UK_ENTRY)])).decode()]
    report = ingest_lines(lines, api.hub.uow, api.hub.ports, source="file:legacy")
    assert report.outcomes == {"rejected": 1}
    assert _billing_state(api, UK_ENTRY) != "billed"
    with api.hub.uow() as uow:
        assert uow.invoices.get("INV-L4") is None
        [problem] = [x for x in uow.exceptions.list() if x.object_id == "INV-L4"]
    assert problem.category == "validation" and f"time_entry {UK_ENTRY}" in problem.reason


def test_finding_1_lineage_shows_only_sources_the_caller_sees(api: Api) -> None:
    # an invoice stored before the check existed, billing one entry of each entity
    mixed = decode_record(invoice("INV-L5", [("time_entry", US_ENTRY), ("time_entry", UK_ENTRY)])).obj
    with api.hub.uow() as uow:
        uow.invoices.add(mixed, "project:P-001")
        uow.commit()
    path = "/v1/experience/invoices/INV-L5/lines/INV-L5-L1/lineage"
    scoped = api.get(path, key=api.us)
    assert scoped.status_code == 200, scoped.text
    assert [s["id"] for s in scoped.json()["sources"]] == [US_ENTRY]
    assert UK_ENTRY not in scoped.text
    firm_wide = api.get(path)
    assert sorted(s["id"] for s in firm_wide.json()["sources"]) == [US_ENTRY, UK_ENTRY]


def test_finding_1_a_payment_cannot_probe_for_another_entitys_invoices(api: Api) -> None:
    uk_invoice = invoice("INV-UKP", [("time_entry", UK_ENTRY)], entity="LE-UK", project="P-901")
    assert api.post("/v1/system/objects", {"records": [uk_invoice]}).status_code == 200
    own = invoice("INV-USP", [("time_entry", US_ENTRY)])
    assert api.post("/v1/system/objects", {"records": [own]}, api.us).status_code == 200

    def pay(invoice_id: str) -> dict[str, object]:
        return {
            "type": "payment",
            "id": "PAY-1",
            "invoice_id": invoice_id,
            "customer_id": "C-001",
            "amount": {"amount": "10.00", "currency": "USD"},
            "received_on": "2026-02-10",
        }

    theirs = api.post("/v1/system/objects", {"records": [pay("INV-UKP")]}, api.us)
    missing = api.post("/v1/system/objects", {"records": [pay("INV-NOPE")]}, api.us)
    assert theirs.status_code == missing.status_code == 404, (theirs.text, missing.text)
    assert theirs.json()["detail"] == missing.json()["detail"]
    paid = api.post("/v1/system/objects", {"records": [pay("INV-USP")]}, api.us)
    assert paid.status_code == 200 and paid.json()["outcomes"] == {"inserted": 1}, paid.text
