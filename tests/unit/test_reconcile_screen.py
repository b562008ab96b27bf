"""The rate card as date ranges, the shape the reconciliation screen joins on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from handoffs.domain.contracts import Contract, RateCardVersion
from handoffs.reconcile.screen import rate_rows


def test_rate_rows_give_each_day_the_version_in_force() -> None:
    contract = Contract(
        id="K-1",
        customer_id="C-1",
        legal_entity_id="LE-US",
        currency="USD",
        billing_model="time_and_materials",
        start_date=date(2026, 1, 1),
        rate_card=(
            RateCardVersion(
                version=2,
                effective_from=date(2026, 1, 15),
                rates={"analyst": Decimal("110.00"), "partner": Decimal("300.00")},
            ),
            RateCardVersion(version=1, effective_from=date(2026, 1, 1), rates={"analyst": Decimal("100.00")}),
        ),
    )
    rows = list(rate_rows(contract))
    for day in (date(2026, 1, 1), date(2026, 1, 14), date(2026, 1, 15), date(2026, 3, 1)):
        in_force = [
            r
            for r in rows
            if r.role == "analyst" and r.valid_from <= day and (r.valid_to is None or day < r.valid_to)
        ]
        assert [r.rate for r in in_force] == [contract.rate_for("analyst", day)[1].amount]
    assert {(r.role, r.valid_from, r.valid_to) for r in rows} == {
        ("analyst", date(2026, 1, 1), date(2026, 1, 15)),
        ("analyst", date(2026, 1, 15), None),
        ("partner", date(2026, 1, 15), None),
    }
    partner_in_january = [r for r in rows if r.role == "partner" and r.valid_from <= date(2026, 1, 2)]
    assert partner_in_january == []  # no rate that day: the screen leaves the entry to the exact check
