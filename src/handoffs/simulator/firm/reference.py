"""Reference data: legal entities with tax rules, currencies, FX, GL accounts, cost centres."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Final

from handoffs.domain.money import MINOR_UNITS
from handoffs.domain.reference import (
    AccountKind,
    CostCentre,
    Currency,
    FxRate,
    GlAccount,
    LegalEntity,
    TaxCode,
)
from handoffs.simulator.firm.model import CloseDay, Firm
from handoffs.simulator.firm.names import ORG_UNITS
from handoffs.simulator.firm.sizes import add_working_days, month_starts, next_month

__all__ = ["EXPENSE_CURRENCIES", "LEGAL_ENTITIES", "build_reference"]

# id, name, country, currency, default tax code, ERP subsidiary, close working day
LEGAL_ENTITIES: Final = (
    ("le-us", "Handoffs Consulting Inc.", "US", "USD", "tax-us-exempt", "1", 3),
    ("le-uk", "Handoffs Consulting Ltd", "GB", "GBP", "tax-uk-std", "2", 5),
    ("le-de", "Handoffs Beratung GmbH", "DE", "EUR", "tax-de-std", "3", 4),
)
TAX_CODES: Final = (
    ("tax-us-exempt", "le-us", "US services, not taxable", "0"),
    ("tax-uk-std", "le-uk", "UK VAT standard 20%", "0.20"),
    ("tax-uk-zero", "le-uk", "UK VAT zero-rated export of services", "0"),
    ("tax-de-std", "le-de", "DE USt 19%", "0.19"),
    ("tax-de-rc", "le-de", "DE reverse charge (EU B2B)", "0"),
)
GL_CHART: Final[tuple[tuple[str, str, AccountKind], ...]] = (
    ("1100", "Accounts receivable", "asset"),
    ("1200", "Unbilled receivables", "asset"),
    ("2100", "VAT / sales tax payable", "liability"),
    ("2200", "Deferred revenue", "liability"),
    ("2300", "Employee reimbursements payable", "liability"),
    ("4000", "Professional services revenue", "revenue"),
    ("4100", "Recharged expenses", "revenue"),
    ("5000", "Cost of services", "expense"),
    ("6100", "Travel", "expense"),
    ("6200", "Meals", "expense"),
    ("6300", "Software", "expense"),
)
# Units of the quote currency that one USD buys, before daily noise.
_USD_RATES: Final = {
    "GBP": "0.79",
    "EUR": "0.92",
    "CHF": "0.88",
    "JPY": "149.5",
    "CAD": "1.36",
    "SEK": "10.6",
}
EXPENSE_CURRENCIES: Final = ("USD", "GBP", "EUR", "CHF", "JPY", "CAD", "SEK")


def build_reference(firm: Firm, rng: random.Random) -> None:
    """Fill the firm's reference data (deterministic for ``rng``)."""
    months = month_starts(firm.size.start, firm.size.months)
    closed = _period(_previous(months[0]))
    for le_id, name, country, currency, tax, sub, close_wd in LEGAL_ENTITIES[: firm.size.legal_entities]:
        firm.legal_entities.append(
            LegalEntity(
                id=le_id,
                name=name,
                country=country,
                currency=currency,
                default_tax_code_id=tax,
                erp_subsidiary=sub,
                closed_through=closed,
                close_working_day=close_wd,
            )
        )
    le_ids = {le.id for le in firm.legal_entities}
    firm.currencies = [Currency(id=c, minor_unit=MINOR_UNITS[c]) for c in EXPENSE_CURRENCIES]
    for quote, base_rate in _USD_RATES.items():
        for month in months:
            for day in (month, month.replace(day=15)):
                noise = Decimal(rng.randint(-150, 150)) / Decimal(10000)
                rate = (Decimal(base_rate) * (1 + noise)).quantize(Decimal("0.000001"))
                firm.fx_rates.append(
                    FxRate(
                        id=f"fx-USD-{quote}-{day.isoformat()}",
                        base="USD",
                        quote=quote,
                        rate=rate,
                        effective_date=day,
                    )
                )
    for tax_id, le_id, label, rate_text in TAX_CODES:
        if le_id in le_ids:
            firm.tax_codes.append(
                TaxCode(id=tax_id, legal_entity_id=le_id, name=label, rate=Decimal(rate_text))
            )
    for le in firm.legal_entities:
        for number, label, kind in GL_CHART:
            firm.gl_accounts.append(
                GlAccount(
                    id=f"gl-{le.id[3:]}-{number}", legal_entity_id=le.id, number=number, name=label, kind=kind
                )
            )
        for unit in ORG_UNITS:
            firm.cost_centres.append(
                CostCentre(
                    id=f"cc-{le.id[3:]}-{unit.lower()}", legal_entity_id=le.id, name=f"{unit} {le.country}"
                )
            )
        close_wd = next(row[6] for row in LEGAL_ENTITIES if row[0] == le.id)
        for month in months:
            following = next_month(month)
            firm.close_calendar.append(
                CloseDay(le.id, _period(month), close_wd, add_working_days(following, close_wd - 1))
            )


def _previous(first: date) -> date:
    return date(first.year - 1, 12, 1) if first.month == 1 else date(first.year, first.month - 1, 1)


def _period(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
