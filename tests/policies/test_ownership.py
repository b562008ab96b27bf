"""Ownership on SQLite and PostgreSQL: non-owner writes are rejected; hub writes never echo back."""

from __future__ import annotations

import orjson

from handoffs.bootstrap import App
from handoffs.flows.ingest import SourceRecord, ingest_records
from tests.policies.support import entry, firm, open_exceptions
from tests.support.flow import drain, load, snapshot

CUSTOMER = {"type": "customer", "id": "C-1", "name": "C", "legal_entity_id": "LE-US", "currency": "USD"}


def _send(hub: App, system: str, *records: dict[str, object], version: str = "2") -> dict[str, int]:
    items = [
        SourceRecord(
            ref=f"{system} {r['type']} {r['id']}",
            raw=orjson.dumps(r).decode(),
            data={**r, "source_system": system, "source_version": version},
            external_id=f"{system}-{r['id']}",
        )
        for r in records
    ]
    return dict(ingest_records(items, hub.uow, hub.ports, source=system).outcomes)


def _customer(hub: App) -> tuple[object, int]:
    with hub.uow() as uow:
        history = list(uow.objects.history("customer", "C-1"))
        return uow.objects.get("customer", "C-1"), len(history)


def test_a_write_from_a_non_owner_is_rejected_and_raised(policy_hub: App) -> None:
    load(policy_hub, firm())
    before, versions = _customer(policy_hub)
    assert _send(policy_hub, "erp", CUSTOMER | {"name": "Renamed by ERP"}) == {"rejected": 1}
    assert _customer(policy_hub) == (before, versions)  # nothing stored
    [problem] = open_exceptions(policy_hub, "ownership")
    assert problem.object_id == "C-1" and problem.detail["fields"] == {"name": "crm"}
    assert "Renamed by ERP" in problem.raw
    # the ERP owns the email field: that change is accepted
    assert _send(policy_hub, "erp", CUSTOMER | {"email": "ap@c.example"}, version="3") == {"updated": 1}
    # only the timesheets system may create time entries
    assert _send(policy_hub, "psa", orjson.loads(entry("T-psa"))) == {"rejected": 1}
    load(policy_hub, [entry("T-1")])
    drain(policy_hub)
    with policy_hub.uow() as uow:
        assert uow.time_entries.get("T-psa") is None and uow.time_entries.get("T-1") is not None
    assert {e.object_id for e in open_exceptions(policy_hub, "ownership")} == {"C-1", "T-psa"}


def test_a_hub_write_coming_back_from_its_owner_changes_nothing(policy_hub: App) -> None:
    load(policy_hub, firm())
    hub_write = CUSTOMER | {"id": "C-9", "name": "Created by the hub", "email": "x@c.example"}
    assert _send(policy_hub, "handoffs", hub_write, version="1") == {"inserted": 1}
    drain(policy_hub)
    before = snapshot(policy_hub)
    with policy_hub.uow() as uow:
        versions = list(uow.objects.history("customer", "C-9"))
    # the CRM (the owner) and the ERP (owner of email) send the hub's own write back
    assert _send(policy_hub, "crm", hub_write, version="7") == {"unchanged": 1}
    assert _send(policy_hub, "erp", hub_write, version="8") == {"unchanged": 1}
    drain(policy_hub)
    assert snapshot(policy_hub) == before
    with policy_hub.uow() as uow:
        assert list(uow.objects.history("customer", "C-9")) == versions
        assert uow.xrefs.for_object("customer", "C-9") == {
            "handoffs": "handoffs-C-9",
            "crm": "crm-C-9",
            "erp": "erp-C-9",
        }
    assert open_exceptions(policy_hub, "ownership") == []
