from datetime import date
from decimal import Decimal

from handoffs.domain.money import Money
from handoffs.domain.pricing import PricedEntry, build_time_invoice, period_bounds, price_entry
from handoffs.domain.work import TimeEntry
from tests.unit.test_model import contract


def test_a_period_straddling_a_rate_change_gets_one_line_per_version() -> None:
    k = contract()
    entries = [
        TimeEntry(
            id=f"T-{d}",
            resource_id="R-1",
            project_id="P-1",
            work_date=date(2026, 1, d),
            hours=Decimal("7.5"),
            role="consultant",
            status="approved",
        )
        for d in (12, 13, 14, 15, 16)
    ]
    priced = [price_entry(e, k, "consultant") for e in entries]
    invoice = build_time_invoice(
        invoice_id="INV-1",
        contract=k,
        project_id="P-1",
        period="2026-01",
        entries=priced,
        tax_rate=Decimal("0.2"),
    )
    v1, v2 = invoice.lines
    assert (v1.rate_card_version, v1.quantity, v1.amount) == (1, Decimal("22.5"), Money.of("3375.00", "USD"))
    assert (v2.rate_card_version, v2.quantity, v2.amount) == (2, Decimal("15.0"), Money.of("2400.00", "USD"))
    assert [s.id for s in v1.sources] == ["T-12", "T-13", "T-14"]
    assert invoice.subtotal == Money.of("5775.00", "USD")
    assert invoice.tax == Money.of("1155.00", "USD")
    assert invoice.total == Money.of("6930.00", "USD")
    assert invoice.issue_date == date(2026, 1, 31)


def test_line_amounts_are_rounded_once_half_up() -> None:
    k = contract()
    odd = [
        PricedEntry(
            f"T-{i}", "R-1", "consultant", date(2026, 1, 2), Decimal("0.3333"), Money.of("150", "USD"), 1
        )
        for i in range(3)
    ]
    invoice = build_time_invoice(
        invoice_id="INV-2", contract=k, project_id="P-1", period="2026-01", entries=odd
    )
    # 0.9999 h x 150 = 149.985 -> 149.99 (one rounding, not three of 49.995)
    assert invoice.lines[0].amount == Money.of("149.99", "USD")


def test_period_bounds() -> None:
    assert period_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
