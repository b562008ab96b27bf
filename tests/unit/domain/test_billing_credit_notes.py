"""Billed exactly once: the ledger, credit notes that release sources, and re-invoicing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from billing_factories import VAT20, entry, eur, tm_contract

from handoffs.domain.billing import SourceRef
from handoffs.domain.contract_billing import bill_time_and_materials
from handoffs.domain.credit_notes import credit_note, released_sources
from handoffs.domain.errors import ValidationError
from handoffs.domain.ledger import AlreadyBilled, BillingLedger, fee_billed_to_date

CONTRACT = tm_contract()
ENTRIES = [
    entry("T-1", date(2026, 4, 6), "8.00"),
    entry("T-2", date(2026, 4, 7), "8.00"),
    entry("T-3", date(2026, 4, 8), "4.00", resource_id="R-2"),
]


def _bill(invoice_id: str, ledger: BillingLedger, **kw: object):  # type: ignore[no-untyped-def]
    run = bill_time_and_materials(
        invoice_id=invoice_id,
        contract=CONTRACT,
        project_id="P-1",
        period="2026-04",
        entries=ENTRIES,
        ledger=ledger,
        tax_code=VAT20,
        **kw,  # type: ignore[arg-type]
    )
    return run.invoice


def test_credit_note_releases_its_sources_and_a_re_invoice_bills_them_once_more() -> None:
    first = _bill("INV-1", BillingLedger.from_documents())
    assert first is not None
    ledger = BillingLedger.from_documents([first])
    assert ledger.billed_sources("time_entry") == {
        "T-1": "INV-1-L0001",
        "T-2": "INV-1-L0001",
        "T-3": "INV-1-L0002",
    }
    assert _bill("INV-X", ledger) is None  # nothing left to bill
    note = credit_note(
        credit_note_id="CN-1", invoice=first, ledger=ledger, issue_date=date(2026, 5, 4), reason="wrong PO"
    )
    # 16 h x 150 = 2400.00 + 480.00 VAT; 4 h x 150 = 600.00 + 120.00 VAT
    assert (note.kind, note.period, note.credits_invoice_id) == ("credit_note", "2026-05", "INV-1")
    assert (note.subtotal, note.tax, note.total) == (eur("-3000.00"), eur("-600.00"), eur("-3600.00"))
    assert [s.id for s in note.lines[0].sources] == ["INV-1-L0001", "T-1", "T-2"]
    assert [r.id for r in released_sources(note)] == ["T-1", "T-2", "T-3"]
    after = ledger.with_documents(note)
    assert after.billed_sources("time_entry") == {}
    again = _bill("INV-2", after, issue_date=date(2026, 5, 4))
    assert again is not None and again.total == first.total and again.sources == first.sources
    final = after.with_documents(again)
    assert final.line_billing(SourceRef(type="time_entry", id="T-1")) == "INV-2-L0001"
    assert fee_billed_to_date(final.documents, "C-1", "EUR") == eur("3000.00")


def test_crediting_one_line_releases_only_its_sources() -> None:
    first = _bill("INV-1", BillingLedger.from_documents())
    assert first is not None
    ledger = BillingLedger.from_documents([first])
    note = credit_note(
        credit_note_id="CN-1",
        invoice=first,
        ledger=ledger,
        issue_date=date(2026, 5, 4),
        reason="R-2 hours disputed",
        line_ids=["INV-1-L0002"],
    )
    assert note.total == eur("-720.00")
    assert ledger.with_documents(note).billed_sources("time_entry") == {
        "T-1": "INV-1-L0001",
        "T-2": "INV-1-L0001",
    }


def test_a_line_cannot_be_credited_twice_and_credit_notes_need_a_reason() -> None:
    first = _bill("INV-1", BillingLedger.from_documents())
    assert first is not None
    ledger = BillingLedger.from_documents([first])
    note = credit_note(
        credit_note_id="CN-1", invoice=first, ledger=ledger, issue_date=date(2026, 5, 4), reason="x"
    )
    with pytest.raises(AlreadyBilled, match="line INV-1-L0001 has already been credited"):
        credit_note(
            credit_note_id="CN-2",
            invoice=first,
            ledger=ledger.with_documents(note),
            issue_date=date(2026, 5, 5),
            reason="x",
        )
    with pytest.raises(ValidationError, match="needs a reason"):
        credit_note(
            credit_note_id="CN-3", invoice=first, ledger=ledger, issue_date=date(2026, 5, 4), reason=" "
        )
    with pytest.raises(ValidationError, match="INV-9-L0001 is not a line of invoice INV-1"):
        credit_note(
            credit_note_id="CN-4",
            invoice=first,
            ledger=ledger,
            issue_date=date(2026, 5, 4),
            reason="x",
            line_ids=["INV-9-L0001"],
        )
    with pytest.raises(ValidationError, match="is a credit note, not an invoice"):
        credit_note(
            credit_note_id="CN-5", invoice=note, ledger=ledger, issue_date=date(2026, 5, 4), reason="x"
        )
    # two credit notes of one line, however they arrive, are refused by the ledger itself
    twin = replace(note, id="CN-1b")
    with pytest.raises(AlreadyBilled, match="credited twice"):
        BillingLedger.from_documents([twin, first, note])


def test_the_ledger_refuses_a_source_on_two_live_lines_in_any_arrival_order() -> None:
    first = _bill("INV-1", BillingLedger.from_documents())
    assert first is not None
    dup = replace(
        first,
        id="INV-1b",
        lines=tuple(replace(line, id=line.id.replace("INV-1", "INV-1b")) for line in first.lines),
    )
    with pytest.raises(
        AlreadyBilled,
        match="billed exactly once: time_entry T-1 is billed on lines INV-1-L0001, INV-1b-L0001",
    ):
        BillingLedger.from_documents([dup, first])
    ledger = BillingLedger.from_documents([first])
    with pytest.raises(AlreadyBilled, match="time_entry T-3 is already billed on INV-1-L0002"):
        ledger.require_unbilled([SourceRef(type="time_entry", id="T-3")])


def test_ledger_is_independent_of_document_order() -> None:
    first = _bill("INV-1", BillingLedger.from_documents())
    assert first is not None
    note = credit_note(
        credit_note_id="CN-1",
        invoice=first,
        ledger=BillingLedger.from_documents([first]),
        issue_date=date(2026, 5, 4),
        reason="x",
    )
    again = _bill("INV-2", BillingLedger.from_documents([first, note]))
    assert again is not None
    orders = ([first, note, again], [again, note, first], [note, again, first])
    views = {
        tuple(sorted(BillingLedger.from_documents(o).billed_sources("time_entry").items())) for o in orders
    }
    assert len(views) == 1


def test_crediting_a_cap_split_entry_rebills_only_its_unheld_hours() -> None:
    from decimal import Decimal

    from handoffs.domain.invoicing import held_hours

    capped = tm_contract(cap="1000.00")  # 150.00 an hour
    entries = [entry("T-1", date(2026, 4, 6), "8.00")]
    run = bill_time_and_materials(
        invoice_id="INV-1",
        contract=capped,
        project_id="P-1",
        period="2026-04",
        entries=entries,
        ledger=BillingLedger.from_documents(),
    )
    assert run.invoice is not None and run.time.write_down is not None
    # 1000.00 / 150.00 = 6.6666 h billed (999.99), 1.3334 h held
    assert run.invoice.lines[0].quantity == Decimal("6.6666") and run.time.write_down.hours == Decimal(
        "1.3334"
    )
    held = held_hours([run.time.write_down])
    ledger = BillingLedger.from_documents([run.invoice], held=held)
    note = credit_note(
        credit_note_id="CN-1", invoice=run.invoice, ledger=ledger, issue_date=date(2026, 5, 4), reason="x"
    )
    rebill = bill_time_and_materials(
        invoice_id="INV-2",
        contract=capped,
        project_id="P-1",
        period="2026-04",
        entries=entries,
        ledger=ledger.with_documents(note),
    )
    assert rebill.invoice is not None and rebill.time.write_down is None
    assert rebill.invoice.lines[0].quantity == Decimal("6.6666")  # 8.00 - 1.3334: never 8 h again
