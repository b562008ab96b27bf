"""Repository and unit-of-work contracts, run on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from handoffs.bootstrap import App
from handoffs.domain.billing import Invoice, InvoiceLine, SourceRef
from handoffs.domain.catalog import CanonicalRecord
from handoffs.domain.messages import GenerateInvoice, TimeEntryApproved
from handoffs.domain.money import Money
from handoffs.domain.parties import Customer

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)


def customer(name: str = "Acme") -> Customer:
    return Customer(id="C-1", name=name, legal_entity_id="LE-US", currency="USD")


def rec(obj: object, version: str | None) -> CanonicalRecord:
    return CanonicalRecord("customer", obj, "crm", version)


def approved(n: int) -> TimeEntryApproved:
    return TimeEntryApproved(
        message_id=f"m-{n}",
        occurred_at=NOW,
        correlation_id="project:P-1",
        entry_id=f"T-{n}",
        project_id="P-1",
        period="2026-01",
    )


def invoice(invoice_id: str, entry_ids: list[str]) -> Invoice:
    usd = Money.of("100.00", "USD")
    line = InvoiceLine(
        id=f"{invoice_id}-L1",
        kind="time",
        description="x",
        quantity=Decimal(1),
        unit_price=usd,
        amount=usd,
        tax=Money.zero("USD"),
        sources=tuple(SourceRef(type="time_entry", id=e) for e in entry_ids),
    )
    return Invoice(
        id=invoice_id,
        kind="invoice",
        legal_entity_id="LE-US",
        customer_id="C-1",
        contract_id="K-1",
        project_id="P-1",
        period="2026-01",
        issue_date=date(2026, 1, 31),
        currency="USD",
        lines=(line,),
        subtotal=usd,
        tax=Money.zero("USD"),
        total=usd,
    )


def test_objects_insert_update_if_newer_and_skip_stale_or_identical(hub: App) -> None:
    with hub.uow() as uow:
        assert [r.outcome for r in uow.objects.upsert([rec(customer(), "5")])] == ["inserted"]
        uow.commit()
    with hub.uow() as uow:
        outcomes = uow.objects.upsert(
            [rec(customer(), "5"), rec(customer("Old"), "4"), rec(customer("New"), "6")]
        )
        assert [r.outcome for r in outcomes] == ["unchanged", "stale", "updated"]
        assert outcomes[-1].version == 2
        uow.commit()
    with hub.uow() as uow:
        assert uow.objects.get("customer", "C-1").name == "New"
        assert [v for v, _ in uow.objects.history("customer", "C-1")] == [1, 2]


def test_the_store_refuses_to_bill_a_source_twice(hub: App) -> None:
    with hub.uow() as uow:
        uow.invoices.add(invoice("INV-1", ["T-1", "T-2"]), "project:P-1")
        uow.commit()
    with hub.uow() as uow, pytest.raises(IntegrityError):
        uow.invoices.add(invoice("INV-2", ["T-3", "T-2"]), "project:P-1")
    with hub.uow() as uow:
        assert uow.invoices.live_billings() == {("time_entry", "T-1"): 1, ("time_entry", "T-2"): 1}
        assert uow.invoices.get("INV-2") is None


def test_rollback_discards_writes_and_published_messages(hub: App) -> None:
    with hub.uow() as uow:
        uow.objects.upsert([rec(customer(), None)])
        uow.publish(approved(1))
        uow.rollback()
    with hub.uow() as uow:
        assert uow.objects.get("customer", "C-1") is None
        assert uow.messages.count_by_type() == {}
        assert uow.queue.outstanding() == (0, None)


def test_messages_are_stored_once_and_fanned_out_per_consumer(hub: App) -> None:
    for _ in range(2):
        with hub.uow() as uow:
            uow.publish(approved(1), approved(1), approved(2))
            uow.commit()
    with hub.uow() as uow:
        assert uow.messages.count_by_type() == {"TimeEntryApproved": 2}
        assert uow.queue.count_by_status() == {"pending": 2}  # one consumer subscribes


def test_claims_are_leased_and_an_expired_lease_is_taken_over(hub: App) -> None:
    with hub.uow() as uow:
        uow.publish(*[approved(n) for n in range(5)])
        uow.commit()
    now = time.time() + 10
    with hub.uow() as uow:
        first = uow.queue.claim("w1", 3, lease_s=30, now_s=now)
        uow.commit()
    with hub.uow() as uow:
        second = uow.queue.claim("w2", 10, lease_s=30, now_s=now)
        uow.commit()
    assert [i.message_id for i in first] == ["m-0", "m-1", "m-2"]
    assert [i.message_id for i in second] == ["m-3", "m-4"]
    with hub.uow() as uow:
        assert uow.queue.claim("w3", 10, lease_s=30, now_s=now + 1) == []
        taken = uow.queue.claim("w3", 10, lease_s=30, now_s=now + 31)
        uow.commit()
    assert len(taken) == 5


def test_a_claim_takes_the_lowest_ids_across_expired_leases_and_pending_work(hub: App) -> None:
    with hub.uow() as uow:
        uow.publish(*[approved(n) for n in range(6)])
        uow.commit()
    now = time.time() + 10
    with hub.uow() as uow:
        assert [i.message_id for i in uow.queue.claim("w1", 2, lease_s=30, now_s=now)] == ["m-0", "m-1"]
        uow.commit()
    with hub.uow() as uow:  # w1's lease on m-0 and m-1 has run out; m-2.. were never claimed
        taken = uow.queue.claim("w2", 3, lease_s=30, now_s=now + 31)
        uow.commit()
    assert [i.message_id for i in taken] == ["m-0", "m-1", "m-2"]
    with hub.uow() as uow:
        assert [i.message_id for i in uow.queue.claim("w3", 10, lease_s=30, now_s=now + 32)] == [
            "m-3",
            "m-4",
            "m-5",
        ]


def test_the_inbox_refuses_a_second_effect(hub: App) -> None:
    with hub.uow() as uow:
        uow.inbox.record("c", ["m-1"])
        uow.commit()
    with hub.uow() as uow:
        assert uow.inbox.seen("c", ["m-1", "m-2"]) == {"m-1"}
        with pytest.raises(IntegrityError):
            uow.inbox.record("c", ["m-1"])


def test_xrefs_deliveries_and_exception_fingerprints(hub: App) -> None:
    with hub.uow() as uow:
        uow.xrefs.link("invoice", "INV-1", "netsuite", "101")
        uow.xrefs.link("invoice", "INV-1", "netsuite", "102")
        assert uow.xrefs.external_id("invoice", "INV-1", "netsuite") == "102"
        assert uow.xrefs.canonical_id("netsuite", "invoice", "102") == "INV-1"
        assert uow.deliveries.ensure("k", "netsuite", "post_invoice", "invoice", "INV-1") is True
        assert uow.deliveries.ensure("k", "netsuite", "post_invoice", "invoice", "INV-1") is False
        uow.deliveries.confirm("k", "102")
        first = uow.exceptions.add(category="validation", source="s", reason="r", raw="{}", fingerprint="f")
        again = uow.exceptions.add(category="validation", source="s", reason="r", raw="{}", fingerprint="f")
        uow.commit()
    assert first is not None and again is None
    with hub.uow() as uow:
        assert uow.deliveries.get("k").status == "confirmed"
        uow.exceptions.set_state(first, "resolved", "fixed upstream")
        assert uow.exceptions.add(category="validation", source="s", reason="r", raw="{}", fingerprint="f")


@pytest.mark.postgres
def test_concurrent_claims_skip_locked_rows(hub: App) -> None:
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer; SKIP LOCKED is PostgreSQL's")
    with hub.uow() as uow:
        uow.publish(*[approved(n) for n in range(4)])
        uow.publish(
            GenerateInvoice(
                message_id="g", occurred_at=NOW, correlation_id="c", project_id="P-1", period="2026-01"
            )
        )
        uow.commit()
    now = time.time() + 10
    with hub.uow() as a, hub.uow() as b:
        got_a = a.queue.claim("a", 2, lease_s=30, now_s=now)  # still in its transaction
        got_b = b.queue.claim("b", 10, lease_s=30, now_s=now)
        a.commit()
        b.commit()
    assert len(got_a) == 2 and len(got_b) == 3
    assert not {i.id for i in got_a} & {i.id for i in got_b}
