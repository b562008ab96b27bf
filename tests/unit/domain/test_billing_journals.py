"""Journals for invoices, credit notes, revenue and expense claims; closed periods."""

from __future__ import annotations

from datetime import date

import pytest
from billing_factories import VAT20, entry, eur, expense, tm_contract
from billing_scenarios import CHART

from handoffs.domain.billing import RevenueEvent
from handoffs.domain.contract_billing import bill_time_and_materials
from handoffs.domain.credit_notes import credit_note
from handoffs.domain.errors import CurrencyMismatch, ValidationError
from handoffs.domain.journals import (
    ChartOfAccounts,
    ContractPosition,
    journal_for_expense_claim,
    journal_for_invoice,
    journal_for_revenue,
    journals_balanced,
    trial_balance,
)
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.domain.periods import PeriodCalendar

ACCOUNTS = dict(CHART.accounts["LE-FR"])
CHART1 = ChartOfAccounts({"LE-1": ACCOUNTS})
OPEN = PeriodCalendar()


def _invoice():  # type: ignore[no-untyped-def]
    run = bill_time_and_materials(
        invoice_id="INV-1",
        contract=tm_contract(),
        project_id="P-1",
        period="2026-04",
        entries=[entry("T-1", date(2026, 4, 6), "8.00")],
        ledger=BillingLedger.from_documents(),
        tax_code=VAT20,
    )
    assert run.invoice is not None
    return run.invoice  # 1200.00 + 240.00 = 1440.00


def _event(amount: str, day: date = date(2026, 4, 30)) -> RevenueEvent:
    return RevenueEvent(
        id="REV-1",
        contract_id="C-1",
        project_id="P-1",
        legal_entity_id="LE-1",
        period=f"{day:%Y-%m}",
        recognised_on=day,
        amount=eur(amount),
        method="percent_complete",
    )


def _lines(je):  # type: ignore[no-untyped-def]
    return [(line.account, str(line.debit.amount), str(line.credit.amount)) for line in je.lines]


def test_invoice_ahead_of_revenue_is_a_contract_liability() -> None:
    je = journal_for_invoice(
        _invoice(), entry_id="JE-1", chart=CHART1, calendar=OPEN, position=ContractPosition.empty("EUR")
    )
    assert je is not None
    assert _lines(je) == [("411000", "1440.00", "0"), ("445710", "0", "240.00"), ("487000", "0", "1200.00")]
    assert (je.period, je.entry_date, je.source and je.source.id) == ("2026-04", date(2026, 4, 30), "INV-1")


def test_invoice_clears_the_contract_asset_first() -> None:
    position = ContractPosition(recognised=eur("1000.00"), billed=eur("0"))
    je = journal_for_invoice(_invoice(), entry_id="JE-1", chart=CHART1, calendar=OPEN, position=position)
    assert je is not None
    assert _lines(je) == [
        ("411000", "1440.00", "0"),
        ("445710", "0", "240.00"),
        ("418100", "0", "1000.00"),
        ("487000", "0", "200.00"),
    ]


def test_credit_note_reverses_through_the_liability_then_the_asset() -> None:
    inv = _invoice()
    note = credit_note(
        credit_note_id="CN-1",
        invoice=inv,
        ledger=BillingLedger.from_documents([inv]),
        issue_date=date(2026, 5, 4),
        reason="x",
    )
    position = ContractPosition(recognised=eur("800.00"), billed=eur("1200.00"))  # liability 400.00
    je = journal_for_invoice(note, entry_id="JE-CN", chart=CHART1, calendar=OPEN, position=position)
    assert je is not None
    assert _lines(je) == [
        ("411000", "0", "1440.00"),
        ("445710", "240.00", "0"),
        ("418100", "800.00", "0"),
        ("487000", "400.00", "0"),
    ]


def test_revenue_releases_the_liability_then_builds_the_asset_and_a_negative_catch_up_mirrors_it() -> None:
    position = ContractPosition(recognised=eur("0"), billed=eur("1000.00"))
    up = journal_for_revenue(
        _event("1500.00"), entry_id="JE-R", chart=CHART1, calendar=OPEN, position=position
    )
    assert up is not None
    assert _lines(up) == [("487000", "1000.00", "0"), ("418100", "500.00", "0"), ("706000", "0", "1500.00")]
    position = position.after(_event("1500.00"))
    assert (position.contract_asset, position.contract_liability) == (eur("500.00"), eur("0"))
    down = journal_for_revenue(
        _event("-700.00"), entry_id="JE-D", chart=CHART1, calendar=OPEN, position=position
    )
    assert down is not None
    assert _lines(down) == [("487000", "0", "200.00"), ("418100", "0", "500.00"), ("706000", "700.00", "0")]


def test_late_revenue_lands_in_the_next_open_period_with_the_reason() -> None:
    calendar = PeriodCalendar({"LE-1": "2026-03"})
    je = journal_for_revenue(
        _event("10.00", date(2026, 3, 31)),
        entry_id="JE-R",
        chart=CHART1,
        calendar=calendar,
        position=ContractPosition.empty("EUR"),
    )
    assert je is not None and (je.period, je.entry_date) == ("2026-04", date(2026, 4, 1))
    assert "closed period: LE-1 2026-03 is closed" in je.memo


def test_expense_claim_owes_the_employee_in_the_expense_currency() -> None:
    claim = expense("E-1", date(2026, 3, 10), Money.of("187.45", "GBP"))
    je = journal_for_expense_claim(
        claim, entry_id="JE-E", legal_entity_id="LE-1", chart=CHART1, calendar=OPEN
    )
    assert je is not None and je.currency == "GBP"
    assert _lines(je) == [("625100", "187.45", "0"), ("421000", "0", "187.45")]
    not_reimbursable = expense("E-2", date(2026, 3, 10), eur("5"), reimbursable=False)
    assert (
        journal_for_expense_claim(
            not_reimbursable, entry_id="J", legal_entity_id="LE-1", chart=CHART1, calendar=OPEN
        )
        is None
    )


def test_missing_account_and_currency_mismatch_name_the_rule() -> None:
    with pytest.raises(ValidationError, match="chart of accounts: LE-1 maps no account for tax_payable"):
        journal_for_invoice(
            _invoice(),
            entry_id="J",
            chart=ChartOfAccounts({"LE-1": {"accounts_receivable": "411"}}),
            calendar=OPEN,
            position=ContractPosition.empty("EUR"),
        )
    with pytest.raises(CurrencyMismatch, match="journal rule"):
        journal_for_invoice(
            _invoice(), entry_id="J", chart=CHART1, calendar=OPEN, position=ContractPosition.empty("GBP")
        )


def test_trial_balance_is_per_entity_and_currency() -> None:
    inv = _invoice()
    a = journal_for_invoice(
        inv, entry_id="JE-1", chart=CHART1, calendar=OPEN, position=ContractPosition.empty("EUR")
    )
    b = journal_for_expense_claim(
        expense("E-1", date(2026, 3, 10), Money.of("9.99", "GBP")),
        entry_id="JE-2",
        legal_entity_id="LE-1",
        chart=CHART1,
        calendar=OPEN,
    )
    assert a is not None and b is not None
    assert trial_balance([a, b]) == {
        ("LE-1", "EUR"): (eur("1440.00"), eur("1440.00")),
        ("LE-1", "GBP"): (Money.of("9.99", "GBP"), Money.of("9.99", "GBP")),
    }
    assert journals_balanced([a, b])
