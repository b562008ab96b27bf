"""Revenue recognition: as delivered, percentage of completion with catch-up, milestones."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing_factories import entry, eur, ff_contract, ms_contract, tm_contract

from handoffs.domain.errors import ValidationError
from handoffs.domain.money import Money
from handoffs.domain.pricing import price_entry
from handoffs.domain.revenue import (
    cost_to_date,
    recognise_as_delivered,
    recognise_milestones,
    recognise_percent_complete,
    revenue_to_date,
)

RATES = {"R-1": eur("100.00"), "R-2": eur("80.00")}


def test_percent_complete_with_a_changed_estimate_shows_the_cumulative_catch_up() -> None:
    contract = ff_contract("12000.00", "8000.00")
    jan = recognise_percent_complete(
        event_id="REV-1",
        contract=contract,
        project_id="P-1",
        period="2026-01",
        cost=eur("2000.00"),
        recognised_to_date=eur("0"),
    )
    # 2000 / 8000 = 25 %; 12000 x 25 % = 3000.00
    assert (jan.ratio, jan.cumulative, jan.catch_up) == (Decimal("0.25"), eur("3000.00"), eur("3000.00"))
    feb = recognise_percent_complete(
        event_id="REV-2",
        contract=contract,
        project_id="P-1",
        period="2026-02",
        cost=eur("4400.00"),
        recognised_to_date=jan.cumulative,
        estimated_cost=eur("10000.00"),
    )
    # 4400 / 10000 = 44 % -> 5280.00; catch-up 5280.00 - 3000.00 = 2280.00
    # (the old estimate would have given 4400 / 8000 = 55 % -> 6600.00, a catch-up of 3600.00)
    assert (feb.cumulative, feb.catch_up) == (eur("5280.00"), eur("2280.00"))
    assert feb.event is not None and feb.event.basis.startswith(
        "cost-to-cost: cost 4400.00 EUR / estimate 10000.00 EUR = 44.00 %"
    )
    mar = recognise_percent_complete(
        event_id="REV-3",
        contract=contract,
        project_id="P-1",
        period="2026-03",
        cost=eur("5000.00"),
        recognised_to_date=feb.cumulative,
        estimated_cost=eur("12500.00"),
    )
    # 5000 / 12500 = 40 % -> 4800.00; catch-up 4800.00 - 5280.00 = -480.00
    assert mar.event is not None and mar.event.amount == eur("-480.00")
    assert (mar.event.period, mar.event.recognised_on) == ("2026-03", date(2026, 3, 31))


def test_percent_complete_never_exceeds_the_fee_and_unchanged_progress_gives_no_event() -> None:
    contract = ff_contract("12000.00", "8000.00")
    overrun = recognise_percent_complete(
        event_id="R",
        contract=contract,
        project_id="P-1",
        period="2026-05",
        cost=eur("9000.00"),
        recognised_to_date=eur("11000.00"),
    )
    assert (overrun.ratio, overrun.cumulative, overrun.catch_up) == (
        Decimal(1),
        eur("12000.00"),
        eur("1000.00"),
    )
    same = recognise_percent_complete(
        event_id="R",
        contract=contract,
        project_id="P-1",
        period="2026-06",
        cost=eur("9500.00"),
        recognised_to_date=eur("12000.00"),
    )
    assert same.event is None and same.catch_up.is_zero


def test_percent_complete_needs_a_fixed_fee_contract_and_an_estimate() -> None:
    with pytest.raises(ValidationError, match="percentage of completion: C-1 is not fixed fee"):
        recognise_percent_complete(
            event_id="R",
            contract=tm_contract(),
            project_id="P-1",
            period="2026-01",
            cost=eur("1"),
            recognised_to_date=eur("0"),
        )
    with pytest.raises(ValidationError, match="needs a cost estimate"):
        recognise_percent_complete(
            event_id="R",
            contract=ff_contract(),
            project_id="P-1",
            period="2026-01",
            cost=eur("1"),
            recognised_to_date=eur("0"),
            estimated_cost=eur("0"),
        )


def test_cost_to_date_is_approved_hours_times_cost_rates_billable_or_not() -> None:
    entries = [
        entry("T-1", date(2026, 1, 15), "8.00"),
        entry("T-2", date(2026, 1, 20), "5.00", resource_id="R-2", billable=False),
        entry("T-3", date(2026, 1, 21), "3.00", status="submitted"),
        entry("T-4", date(2026, 2, 2), "1.00"),
        entry("T-5", date(2026, 1, 22), "1.00", project_id="P-2"),
    ]
    # 8 x 100.00 + 5 x 80.00 = 1200.00
    assert cost_to_date(entries, RATES, project_id="P-1", period="2026-01", currency="EUR") == eur("1200.00")
    with pytest.raises(ValidationError, match="R-1's cost rate is in GBP, not EUR"):
        cost_to_date(
            entries, {"R-1": Money.of("1", "GBP")}, project_id="P-1", period="2026-01", currency="EUR"
        )
    with pytest.raises(ValidationError, match="no cost rate for R-2"):
        cost_to_date(entries, {"R-1": eur("1")}, project_id="P-1", period="2026-01", currency="EUR")


def test_as_delivered_matches_invoice_rounding_and_respects_the_cap() -> None:
    contract = tm_contract((date(2026, 1, 1), "167.50"), cap="5000.00")
    priced = [
        price_entry(entry(f"T-{i}", date(2026, 3, i), h), contract, "consultant")
        for i, h in ((1, "8.00"), (2, "6.25"))
    ]
    ev = recognise_as_delivered(
        event_id="REV-1",
        contract=contract,
        project_id="P-1",
        period="2026-03",
        priced=priced,
        expense_charges=[eur("12.34")],
    )
    # 14.25 h x 167.50 = 2386.875 -> 2386.88, plus expense 12.34
    assert ev is not None and ev.amount == eur("2399.22") and ev.method == "as_delivered"
    capped = recognise_as_delivered(
        event_id="REV-2",
        contract=contract,
        project_id="P-1",
        period="2026-03",
        priced=priced,
        time_recognised_to_date=eur("4000.00"),
    )
    assert capped is not None and capped.amount == eur("1000.00")
    assert (
        recognise_as_delivered(
            event_id="REV-3",
            contract=contract,
            project_id="P-1",
            period="2026-03",
            priced=priced,
            time_recognised_to_date=eur("5000.00"),
        )
        is None
    )


def test_milestones_are_recognised_once_on_their_acceptance_day() -> None:
    contract = ms_contract(
        ("M-1", "12345.67", date(2026, 3, 30)), ("M-2", "500.00", date(2026, 4, 14)), ("M-3", "1.00", None)
    )
    events = recognise_milestones(
        contract=contract, project_id="P-1", period="2026-04", recognised=["M-1"], event_id_prefix="REV"
    )
    assert [(e.id, e.amount, e.recognised_on, e.period, e.method) for e in events] == [
        ("REV-M-2", eur("500.00"), date(2026, 4, 14), "2026-04", "milestone")
    ]
    late = recognise_milestones(
        contract=contract, project_id="P-1", period="2026-04", recognised=[], event_id_prefix="REV"
    )
    assert [e.period for e in late] == ["2026-03", "2026-04"]
    assert revenue_to_date(late, "C-MS", "EUR") == eur("12845.67")
