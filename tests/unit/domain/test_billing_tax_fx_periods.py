"""Tax resolution and rounding, dated FX, and closed periods."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from billing_factories import ENTITY, VAT20, eur, tm_contract

from handoffs.domain.errors import ValidationError
from handoffs.domain.fx import FxTable, NoFxRate
from handoffs.domain.money import Money
from handoffs.domain.parties import Customer
from handoffs.domain.periods import PeriodCalendar, next_period, period_of
from handoffs.domain.reference import FxRate, TaxCode
from handoffs.domain.tax import resolve_tax_code, tax_on

ZERO = TaxCode(id="VAT-0", legal_entity_id="LE-1", name="Export", rate=Decimal("0"))
CODES = {c.id: c for c in (VAT20, ZERO)}


def test_tax_code_contract_then_customer_then_entity_default() -> None:
    customer = Customer(id="CU-1", name="Acme", legal_entity_id="LE-1", currency="EUR", tax_code_id="VAT-0")
    assert resolve_tax_code(tm_contract(), ENTITY, CODES) == VAT20
    assert resolve_tax_code(tm_contract(), ENTITY, CODES, customer) == ZERO
    assert resolve_tax_code(tm_contract(tax_code_id="VAT-20"), ENTITY, CODES, customer) == VAT20
    assert resolve_tax_code(tm_contract(), replace(ENTITY, default_tax_code_id=None), CODES) is None


def test_tax_code_of_another_entity_or_unknown_is_refused() -> None:
    foreign = TaxCode(id="UK-20", legal_entity_id="LE-2", name="UK VAT", rate=Decimal("0.2"))
    with pytest.raises(ValidationError, match="tax rule: tax code UK-20 belongs to LE-2"):
        resolve_tax_code(tm_contract(tax_code_id="UK-20"), ENTITY, {"UK-20": foreign})
    with pytest.raises(ValidationError, match="unknown tax code 'NOPE'"):
        resolve_tax_code(tm_contract(tax_code_id="NOPE"), ENTITY, CODES)


def test_line_tax_is_rounded_once_with_the_entity_mode() -> None:
    # 2386.875 rounds to 2386.88 first; 2386.88 x 0.20 = 477.376 -> 477.38
    assert tax_on(eur("2386.875"), VAT20) == eur("477.38")
    # an unrounded net is rounded first: 12.5625 -> 12.56; 12.56 x 0.20 = 2.512 -> 2.51
    assert tax_on(eur("12.5625"), VAT20) == eur("2.51")
    # the entity's rounding mode applies at both points (net 0.125 sits on a half cent)
    assert tax_on(eur("0.125"), VAT20, "half_up") == eur("0.03")  # 0.13 x 0.2 = 0.026 -> 0.03
    assert tax_on(eur("0.125"), VAT20, "half_even") == eur("0.02")  # 0.12 x 0.2 = 0.024 -> 0.02
    assert tax_on(eur("10.00"), None) == eur("0.00")


def _rate(base: str, quote: str, rate: str, day: date) -> FxRate:
    return FxRate(
        id=f"FX-{base}{quote}-{day.isoformat()}",
        base=base,
        quote=quote,
        rate=Decimal(rate),
        effective_date=day,
    )


def test_fx_uses_the_latest_rate_on_or_before_the_day() -> None:
    table = FxTable(
        [_rate("GBP", "EUR", "1.1650", date(2026, 3, 1)), _rate("GBP", "EUR", "1.1712", date(2026, 3, 9))]
    )
    assert table.convert(Money.of("100", "GBP"), "EUR", date(2026, 3, 8)).converted == eur("116.5000")
    conv = table.convert(Money.of("187.45", "GBP"), "EUR", date(2026, 3, 10))
    assert (conv.rate, conv.rate_id, conv.converted) == (
        Decimal("1.1712"),
        "FX-GBPEUR-2026-03-09",
        eur("219.541440"),
    )
    with pytest.raises(NoFxRate, match="FX rule: no GBP/EUR rate in force on 2026-02-28"):
        table.convert(Money.of("1", "GBP"), "EUR", date(2026, 2, 28))


def test_fx_inverts_the_opposite_quote_and_skips_same_currency() -> None:
    table = FxTable([_rate("EUR", "GBP", "0.8", date(2026, 1, 1))])
    conv = table.convert(Money.of("80", "GBP"), "EUR", date(2026, 2, 1))
    assert conv.inverted and conv.converted == eur("100.00")
    same = table.convert(eur("5"), "EUR", date(2026, 2, 1))
    assert same.rate_id is None and same.converted == eur("5")


def test_fx_table_refuses_two_rates_for_one_pair_and_day() -> None:
    with pytest.raises(ValidationError, match="two rates"):
        FxTable([_rate("GBP", "EUR", "1.1", date(2026, 1, 1)), _rate("GBP", "EUR", "1.2", date(2026, 1, 1))])


def test_periods() -> None:
    assert period_of(date(2026, 12, 31)) == "2026-12"
    assert next_period("2026-12") == "2027-01"
    calendar = PeriodCalendar({"LE-1": "2026-03"}, {"LE-1": frozenset({"2026-04"})})
    assert calendar.is_closed("LE-1", "2026-02") and calendar.is_closed("LE-1", "2026-04")
    assert not calendar.is_closed("LE-1", "2026-05") and not calendar.is_closed("LE-2", "2026-01")
    open_ = calendar.posting_for("LE-1", date(2026, 5, 7), "invoice I-1")
    assert (open_.period, open_.entry_date, open_.reason) == ("2026-05", date(2026, 5, 7), None)
    late = calendar.posting_for("LE-1", date(2026, 3, 30), "invoice I-2")
    assert (late.period, late.entry_date, late.is_late) == ("2026-05", date(2026, 5, 1), True)
    assert late.reason == (
        "closed period: LE-1 2026-03 is closed, so invoice I-2 dated 2026-03-30 "
        "is posted in the next open period 2026-05 on 2026-05-01"
    )


def test_calendar_from_entities() -> None:
    calendar = PeriodCalendar.from_entities(
        [replace(ENTITY, closed_through="2026-12"), replace(ENTITY, id="LE-2")]
    )
    assert calendar.posting_for("LE-1", date(2026, 12, 31)).period == "2027-01"
    assert calendar.posting_for("LE-2", date(2026, 12, 31)).period == "2026-12"


def test_fx_crosses_through_a_common_currency_when_a_pair_is_not_quoted() -> None:
    from decimal import Decimal as D

    from handoffs.domain.fx import FxTable, NoFxRate
    from handoffs.domain.reference import FxRate

    table = FxTable(
        [
            FxRate(id="USD-GBP", base="USD", quote="GBP", rate=D("0.80"), effective_date=date(2026, 1, 1)),
            FxRate(id="USD-EUR", base="USD", quote="EUR", rate=D("0.92"), effective_date=date(2026, 1, 1)),
        ]
    )
    conv = table.convert(Money.of("100", "GBP"), "EUR", date(2026, 2, 1))
    assert conv.rate == D(1) / D("0.80") * D("0.92")  # GBP->USD (inverse) then USD->EUR
    assert conv.converted.amount.quantize(D("0.01")) == D("115.00")
    assert conv.rate_id == "USD-GBP*USD-EUR" and conv.inverted
    with pytest.raises(NoFxRate):
        table.convert(Money.of("1", "JPY"), "EUR", date(2026, 2, 1))
