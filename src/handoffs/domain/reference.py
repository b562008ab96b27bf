"""Reference data: legal entities, currencies, FX rates, tax codes, GL accounts, cost centres."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from handoffs.domain.money import MINOR_UNITS, ROUNDING_MODES, check_currency
from handoffs.domain.rules import check_id, require

__all__ = ["CostCentre", "Currency", "FxRate", "GlAccount", "LegalEntity", "TaxCode"]

AccountKind = Literal["asset", "liability", "equity", "revenue", "expense"]


@dataclass(frozen=True, kw_only=True, slots=True)
class LegalEntity:
    """A company of the firm that invoices, books and closes its own periods."""

    id: str
    name: str
    country: str
    currency: str
    rounding: str = "half_up"
    default_tax_code_id: str | None = None
    erp_subsidiary: str | None = None
    closed_through: str | None = None  # last closed period, YYYY-MM
    close_working_day: int | None = None  # a period closes on this working day of the next month

    def __post_init__(self) -> None:
        check_id(self.id)
        require(bool(self.name.strip()), "name", "must not be blank")
        require(len(self.country) == 2 and self.country.isupper(), "country", "must be ISO 3166 alpha-2")
        check_currency(self.currency)
        require(self.rounding in ROUNDING_MODES, "rounding", f"must be one of {sorted(ROUNDING_MODES)}")
        require(
            self.close_working_day is None or 1 <= self.close_working_day <= 20,
            "close_working_day",
            "must be a working day of the month, 1 to 20",
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Currency:
    """An ISO 4217 currency and its minor unit."""

    id: str  # the ISO code
    minor_unit: int

    def __post_init__(self) -> None:
        check_currency(self.id, "id")
        require(
            self.minor_unit == MINOR_UNITS[self.id], "minor_unit", f"{self.id} has {MINOR_UNITS[self.id]}"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class FxRate:
    """One unit of ``base`` buys ``rate`` units of ``quote`` from ``effective_date`` on."""

    id: str
    base: str
    quote: str
    rate: Decimal
    effective_date: date

    def __post_init__(self) -> None:
        check_id(self.id)
        check_currency(self.base, "base")
        check_currency(self.quote, "quote")
        require(self.base != self.quote, "quote", "must differ from base")
        require(self.rate > 0, "rate", "must be positive")


@dataclass(frozen=True, kw_only=True, slots=True)
class TaxCode:
    """A tax rule of a legal entity: a rate applied to a line's net amount."""

    id: str
    legal_entity_id: str
    name: str
    rate: Decimal  # a fraction: 0.20 is 20 %

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.legal_entity_id, "legal_entity_id")
        require(Decimal(0) <= self.rate < Decimal(1), "rate", "must be a fraction from 0 to below 1")


@dataclass(frozen=True, kw_only=True, slots=True)
class GlAccount:
    """A general-ledger account of a legal entity's chart of accounts."""

    id: str
    legal_entity_id: str
    number: str
    name: str
    kind: AccountKind
    role: str | None = None  # the posting role it plays, e.g. accounts_receivable (journals.ACCOUNT_ROLES)

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.legal_entity_id, "legal_entity_id")
        require(bool(self.number.strip()), "number", "must not be blank")


@dataclass(frozen=True, kw_only=True, slots=True)
class CostCentre:
    """An organisational unit that carries cost."""

    id: str
    legal_entity_id: str
    name: str

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.legal_entity_id, "legal_entity_id")
