"""Amendments re-price unbilled time; billed time gets a credit-and-rebill proposal."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from billing_factories import VAT20, entry, eur, tm_contract

from handoffs.domain.amendments import (
    amendment_effective_date,
    credit_and_rebill,
    guard_billed_edit,
    reprice_for_amendment,
)
from handoffs.domain.contract_billing import bill_time_and_materials
from handoffs.domain.errors import ValidationError
from handoffs.domain.ledger import BillingLedger

OLD = tm_contract((date(2026, 1, 1), "150.00"))
NEW = tm_contract((date(2026, 1, 1), "150.00"), (date(2026, 5, 11), "160.00"))
ENTRIES = [
    entry("T-1", date(2026, 5, 4), "8.00"),
    entry("T-2", date(2026, 5, 11), "8.00"),
    entry("T-3", date(2026, 6, 1), "8.00"),
    entry("T-4", date(2026, 6, 8), "6.00"),
]


def _may_ledger() -> BillingLedger:
    run = bill_time_and_materials(
        invoice_id="INV-5",
        contract=OLD,
        project_id="P-1",
        period="2026-05",
        entries=ENTRIES,
        ledger=BillingLedger.from_documents(),
        tax_code=VAT20,
    )
    assert run.invoice is not None and run.invoice.subtotal == eur("2400.00")
    return BillingLedger.from_documents([run.invoice])


def test_amendment_reprices_unbilled_time_and_proposes_credit_and_rebill_for_billed_time() -> None:
    rep = reprice_for_amendment(
        old_contract=OLD,
        new_contract=NEW,
        entries=ENTRIES,
        ledger=_may_ledger(),
        issue_date=date(2026, 6, 10),
        proposal_prefix="AMD-2",
        tax_code=VAT20,
    )
    assert rep.effective_from == date(2026, 5, 11)
    assert [(r.entry_id, r.hours, r.old_rate, r.new_rate, r.delta) for r in rep.unbilled] == [
        ("T-3", Decimal("8.00"), eur("150.00"), eur("160.00"), eur("80.0000")),
        ("T-4", Decimal("6.00"), eur("150.00"), eur("160.00"), eur("60.0000")),
    ]
    assert [(r.entry_id, r.billed_on) for r in rep.billed] == [("T-2", "INV-5-L0001")]
    (prop,) = rep.proposals
    assert prop.credit_note.total == eur("-2880.00")
    assert prop.rebill is not None
    # rebill: T-1 8 h x 150.00 = 1200.00 (v1, before the effective date) + T-2 8 h x 160.00 = 1280.00 (v2)
    assert [(line.amount, line.rate_card_version) for line in prop.rebill.lines] == [
        (eur("1200.00"), 1),
        (eur("1280.00"), 2),
    ]
    assert (prop.impact_net, prop.impact_total) == (eur("80.00"), eur("96.00"))
    assert prop.reason.startswith("amendment of C-1 from 2026-05-11")


def test_an_amendment_must_add_or_change_a_version() -> None:
    with pytest.raises(ValidationError, match="amendment rule: C-1's amendment adds or changes no version"):
        amendment_effective_date(OLD, OLD)
    with pytest.raises(ValidationError, match="keeps the contract's id"):
        amendment_effective_date(OLD, replace(NEW, id="C-2"))


def test_an_edit_to_a_billed_entry_is_locked_and_becomes_a_credit_and_rebill() -> None:
    ledger = _may_ledger()
    before = ENTRIES[1]
    after = replace(before, hours=Decimal("6.00"))
    reason = guard_billed_edit(before, after, ledger)
    assert reason == "billed entry locked: T-2 is billed on INV-5-L0001; changed hours 8.00 -> 6.00"
    assert guard_billed_edit(ENTRIES[2], replace(ENTRIES[2], hours=Decimal(1)), ledger) is None  # unbilled
    assert (
        guard_billed_edit(before, replace(before, notes="typo fixed"), ledger) is None
    )  # not a billing field
    invoice, _ = ledger.line("INV-5-L0001")
    prop = credit_and_rebill(
        proposal_id="ADJ-T-2",
        invoice=invoice,
        line_ids=["INV-5-L0001"],
        contract=OLD,
        entries=[ENTRIES[0], after],
        ledger=ledger,
        issue_date=date(2026, 6, 2),
        reason=reason,
        tax_code=VAT20,
    )
    # 14 h x 150.00 = 2100.00 against 2400.00 credited: -300.00 net, -360.00 with VAT
    assert prop.rebill is not None and prop.rebill.subtotal == eur("2100.00")
    assert (prop.impact_net, prop.impact_total) == (eur("-300.00"), eur("-360.00"))


def test_a_billed_entry_rejected_later_is_credited_and_not_rebilled() -> None:
    ledger = _may_ledger()
    invoice, _ = ledger.line("INV-5-L0001")
    rejected = replace(ENTRIES[1], status="rejected")
    prop = credit_and_rebill(
        proposal_id="ADJ",
        invoice=invoice,
        line_ids=["INV-5-L0001"],
        contract=OLD,
        entries=[ENTRIES[0], rejected],
        ledger=ledger,
        issue_date=date(2026, 6, 2),
        reason="rejected",
    )
    assert prop.rebill is not None and [s.id for s in prop.rebill.sources] == ["T-1"]
    assert {d.entry_id: d.reason for d in prop.dispositions}[
        "T-2"
    ] == "not billed: not approved (status rejected)"
    with pytest.raises(ValidationError, match="entries missing: T-2"):
        credit_and_rebill(
            proposal_id="ADJ",
            invoice=invoice,
            line_ids=["INV-5-L0001"],
            contract=OLD,
            entries=[ENTRIES[0]],
            ledger=ledger,
            issue_date=date(2026, 6, 2),
            reason="x",
        )
