"""Invoicing by contract model: T&M (rate changes, caps), installments, milestones, expenses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing_factories import VAT20, entry, eur, expense, ff_contract, ms_contract, tm_contract

from handoffs.domain.contract_billing import bill_installments, bill_milestones, bill_time_and_materials
from handoffs.domain.errors import NoEffectiveRate, ValidationError
from handoffs.domain.fx import FxTable
from handoffs.domain.invoicing import held_hours
from handoffs.domain.ledger import BillingLedger, fee_billed_to_date
from handoffs.domain.money import Money
from handoffs.domain.reference import FxRate

EMPTY = BillingLedger.from_documents()
RATE_CHANGE = tm_contract((date(2026, 1, 1), "150.00"), (date(2026, 3, 16), "167.50"))


def test_tm_across_a_mid_period_rate_change_gives_one_line_per_version() -> None:
    entries = [
        entry("T-1", date(2026, 3, 9), "8.00"),
        entry("T-2", date(2026, 3, 13), "7.50"),
        entry("T-3", date(2026, 3, 17), "8.00"),
        entry("T-4", date(2026, 3, 20), "6.25"),
    ]
    run = bill_time_and_materials(
        invoice_id="INV-1",
        contract=RATE_CHANGE,
        project_id="P-1",
        period="2026-03",
        entries=entries,
        ledger=EMPTY,
        tax_code=VAT20,
    )
    inv = run.invoice
    assert inv is not None
    v1, v2 = inv.lines
    # v1: 15.50 h x 150.00 = 2325.00, tax 465.00
    # v2: 14.25 h x 167.50 = 2386.875 -> 2386.88, tax 477.376 -> 477.38
    assert (v1.quantity, v1.unit_price, v1.amount, v1.tax, v1.rate_card_version) == (
        Decimal("15.50"),
        eur("150.00"),
        eur("2325.00"),
        eur("465.00"),
        1,
    )
    assert (v2.quantity, v2.unit_price, v2.amount, v2.tax, v2.rate_card_version) == (
        Decimal("14.25"),
        eur("167.50"),
        eur("2386.88"),
        eur("477.38"),
        2,
    )
    assert [s.id for s in v2.sources] == ["T-3", "T-4"]
    assert (inv.subtotal, inv.tax, inv.total) == (eur("4711.88"), eur("942.38"), eur("5654.26"))
    assert (inv.issue_date, inv.due_date) == (date(2026, 3, 31), date(2026, 4, 30))


def test_only_approved_billable_unbilled_time_of_the_project_up_to_period_end_is_billed() -> None:
    entries = [
        entry("T-1", date(2026, 2, 27), "2.00"),  # late approval from February: billed now
        entry("T-2", date(2026, 3, 2), "1.00", status="submitted"),
        entry("T-3", date(2026, 3, 3), "1.00", status="rejected"),
        entry("T-4", date(2026, 3, 4), "1.00", billable=False),
        entry("T-5", date(2026, 3, 5), "1.00", project_id="P-OTHER"),
        entry("T-6", date(2026, 4, 1), "1.00"),
    ]
    run = bill_time_and_materials(
        invoice_id="INV-1",
        contract=tm_contract(),
        project_id="P-1",
        period="2026-03",
        entries=entries,
        ledger=EMPTY,
    )
    assert run.invoice is not None and [s.id for s in run.invoice.sources] == ["T-1"]
    reasons = {d.entry_id: d.reason for d in run.time.dispositions}
    assert reasons == {
        "T-1": "billed",
        "T-2": "not billed: not approved (status submitted)",
        "T-3": "not billed: not approved (status rejected)",
        "T-4": "not billed: non-billable time",
        "T-5": "not billed: entry is for project P-OTHER",
        "T-6": "not billed: worked after the period ends on 2026-03-31",
    }


def test_capped_tm_crossing_its_cap_holds_the_overflow_for_write_down() -> None:
    contract = tm_contract((date(2026, 1, 1), "200.00"), cap="3000.00")
    entries = [entry(f"T-{i}", date(2026, 3, i), "8.00") for i in range(1, 4)]
    run = bill_time_and_materials(
        invoice_id="INV-1",
        contract=contract,
        project_id="P-1",
        period="2026-03",
        entries=entries,
        ledger=EMPTY,
    )
    inv, wd = run.invoice, run.time.write_down
    assert inv is not None and wd is not None
    # T-1 1600.00 fits; T-2 would make 3200.00 > 3000.00: 1400.00 / 200.00 = 7.0000 h fit, 1.0000 h held
    assert [(line.quantity, line.amount) for line in inv.lines] == [
        (Decimal("8.00"), eur("1600.00")),
        (Decimal("7.0000"), eur("1400.00")),
    ]
    assert inv.subtotal == eur("3000.00")
    assert [(i.entry_id, i.hours) for i in wd.items] == [("T-2", Decimal("1.0000")), ("T-3", Decimal("8.00"))]
    assert (wd.hours, wd.amount) == (Decimal("9.0000"), eur("1800.00"))
    assert wd.reason.startswith("cap reached: contract C-1 is capped at 3000.00 EUR")
    held = {d.entry_id: (d.billed_hours, d.held_hours) for d in run.time.dispositions}
    assert held == {
        "T-1": (Decimal("8.00"), 0),
        "T-2": (Decimal("7.0000"), Decimal("1.0000")),
        "T-3": (0, Decimal("8.00")),
    }


def test_cap_reached_earlier_holds_everything_and_held_entries_are_not_proposed_twice() -> None:
    contract = tm_contract(cap="100.00")
    first = bill_time_and_materials(
        invoice_id="INV-1",
        contract=contract,
        project_id="P-1",
        period="2026-03",
        entries=[entry("T-1", date(2026, 3, 2), "1.00")],
        ledger=EMPTY,
    )
    # The crossing line bills exactly the 100.00 left (quantity 100.00 / 150.00 = 0.6666 h,
    # rounded down); 0.3334 h are held, worth 150.00 - 100.00 = 50.00: the cap is reached to
    # the cent and billed + written down = delivered.
    assert first.invoice is not None and first.invoice.subtotal == eur("100.00")
    assert first.invoice.lines[0].quantity == Decimal("0.6666")
    assert first.time.write_down is not None and first.time.write_down.amount == eur("50.00")
    assert first.time.write_down.hours == Decimal("0.3334")
    ledger = BillingLedger.from_documents([first.invoice], held=held_hours([first.time.write_down]))
    assert fee_billed_to_date(ledger.documents, "C-1", "EUR") == eur("100.00")
    later = bill_time_and_materials(
        invoice_id="INV-2",
        contract=contract,
        project_id="P-1",
        period="2026-04",
        entries=[entry("T-1", date(2026, 3, 2), "1.00"), entry("T-2", date(2026, 4, 2), "2.00")],
        ledger=ledger,
    )
    assert later.invoice is None
    assert later.time.write_down is not None and later.time.write_down.amount == eur("300.00")
    assert {d.entry_id: d.reason for d in later.time.dispositions}["T-1"].startswith("billed exactly once")


def test_tm_entry_without_a_role_or_rate_is_an_error_naming_the_rule() -> None:
    with pytest.raises(ValidationError, match="rate card rule: entry T-1 has no role"):
        bill_time_and_materials(
            invoice_id="I",
            contract=tm_contract(),
            project_id="P-1",
            period="2026-03",
            entries=[entry("T-1", date(2026, 3, 2), "1", role=None)],
            ledger=EMPTY,
        )
    with pytest.raises(NoEffectiveRate, match="no rate for role 'architect'"):
        bill_time_and_materials(
            invoice_id="I",
            contract=tm_contract(),
            project_id="P-1",
            period="2026-03",
            entries=[entry("T-1", date(2026, 3, 2), "1", role="architect")],
            ledger=EMPTY,
        )


def test_fixed_fee_installments_are_billed_when_due_and_only_once() -> None:
    contract = ff_contract("10000.00", n=3)  # 3333.33 + 3333.33 + 3333.34
    feb = bill_installments(
        invoice_id="INV-2",
        contract=contract,
        project_id="P-1",
        period="2026-02",
        ledger=EMPTY,
        tax_code=VAT20,
    )
    assert feb is not None
    assert [(line.sources[0].id, line.amount, line.tax) for line in feb.lines] == [
        ("I-1", eur("3333.33"), eur("666.67")),
        ("I-2", eur("3333.33"), eur("666.67")),
    ]
    assert (feb.subtotal, feb.tax, feb.total) == (eur("6666.66"), eur("1333.34"), eur("8000.00"))
    ledger = BillingLedger.from_documents([feb])
    again = bill_installments(
        invoice_id="INV-2b", contract=contract, project_id="P-1", period="2026-02", ledger=ledger
    )
    assert again is None
    mar = bill_installments(
        invoice_id="INV-3", contract=contract, project_id="P-1", period="2026-03", ledger=ledger
    )
    assert mar is not None and mar.subtotal == eur("3333.34")


def test_milestones_are_billed_on_acceptance_with_vat() -> None:
    contract = ms_contract(
        ("M-1", "12345.67", date(2026, 4, 14)), ("M-2", "25000.00", None), ("M-3", "1.00", date(2026, 5, 2))
    )
    inv = bill_milestones(
        invoice_id="INV-4",
        contract=contract,
        project_id="P-1",
        period="2026-04",
        ledger=EMPTY,
        tax_code=VAT20,
    )
    assert inv is not None
    (line,) = inv.lines
    # 12345.67 x 0.20 = 2469.134 -> 2469.13; total 14814.80
    assert (line.kind, line.amount, line.tax, inv.total) == (
        "milestone",
        eur("12345.67"),
        eur("2469.13"),
        eur("14814.80"),
    )
    assert (
        bill_milestones(
            invoice_id="INV-5",
            contract=contract,
            project_id="P-1",
            period="2026-04",
            ledger=BillingLedger.from_documents([inv]),
        )
        is None
    )


def test_each_entry_point_checks_the_contract_model() -> None:
    with pytest.raises(ValidationError, match="fixed-fee installments: contract C-1 is time_and_materials"):
        bill_installments(
            invoice_id="I", contract=tm_contract(), project_id="P-1", period="2026-03", ledger=EMPTY
        )
    with pytest.raises(ValidationError, match="milestone billing"):
        bill_milestones(
            invoice_id="I", contract=ff_contract(), project_id="P-1", period="2026-03", ledger=EMPTY
        )
    with pytest.raises(ValidationError, match="time-and-materials billing"):
        bill_time_and_materials(
            invoice_id="I",
            contract=ff_contract(),
            project_id="P-1",
            period="2026-03",
            entries=[],
            ledger=EMPTY,
        )


def test_expense_with_markup_in_a_foreign_currency_uses_the_dated_rate() -> None:
    fx = FxTable(
        [
            FxRate(
                id="FX-1", base="GBP", quote="EUR", rate=Decimal("1.1650"), effective_date=date(2026, 3, 1)
            ),
            FxRate(
                id="FX-2", base="GBP", quote="EUR", rate=Decimal("1.1712"), effective_date=date(2026, 3, 9)
            ),
        ]
    )
    contract = tm_contract(markup="0.15")
    run = bill_time_and_materials(
        invoice_id="INV-X",
        contract=contract,
        project_id="P-1",
        period="2026-03",
        entries=[],
        ledger=EMPTY,
        expenses=[
            expense("E-1", date(2026, 3, 10), Money.of("187.45", "GBP")),
            expense("E-2", date(2026, 3, 11), eur("50.00"), status="rejected"),
            expense("E-3", date(2026, 3, 12), eur("20.00"), billable=False),
        ],
        fx=fx,
        tax_code=VAT20,
    )
    inv = run.invoice
    assert inv is not None
    (line,) = inv.lines
    # 187.45 x 1.1712 = 219.54144; x 1.15 = 252.472656 -> 252.47; tax 50.494 -> 50.49
    assert (line.amount, line.tax, line.fx_rate, line.fx_rate_id) == (
        eur("252.47"),
        eur("50.49"),
        Decimal("1.1712"),
        "FX-2",
    )
    assert "+ 15.00 % markup" in line.description
    assert {d.expense_id: d.reason for d in run.expenses.dispositions if d.line_id is None} == {
        "E-2": "not billed: not approved (status rejected)",
        "E-3": "not billed: non-billable expense",
    }


def test_expenses_at_cost_ride_on_a_time_invoice_after_the_time_lines() -> None:
    run = bill_time_and_materials(
        invoice_id="INV-1",
        contract=tm_contract(),
        project_id="P-1",
        period="2026-03",
        entries=[entry("T-1", date(2026, 3, 2), "2.00")],
        expenses=[expense("E-1", date(2026, 3, 3), eur("12.34"))],
        ledger=EMPTY,
    )
    inv = run.invoice
    assert inv is not None
    assert [(line.id, line.kind, line.amount) for line in inv.lines] == [
        ("INV-1-L0001", "time", eur("300.00")),
        ("INV-1-L0002", "expense", eur("12.34")),
    ]
    assert inv.total == eur("312.34")
