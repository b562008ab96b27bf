"""Customers and resources (the people whose time is sold)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handoffs.domain.money import Money, check_currency
from handoffs.domain.rules import check_id, check_non_negative, require

__all__ = ["Customer", "Resource"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Customer:
    """A client of the firm, invoiced by one legal entity."""

    id: str
    name: str
    legal_entity_id: str
    currency: str
    tax_code_id: str | None = None
    email: str | None = None
    country: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        require(bool(self.name.strip()), "name", "must not be blank")
        check_id(self.legal_entity_id, "legal_entity_id")
        check_currency(self.currency)


@dataclass(frozen=True, kw_only=True, slots=True)
class Resource:
    """A consultant or employee, as the HRIS knows them."""

    id: str
    name: str
    legal_entity_id: str
    role: str
    cost_rate: Money
    weekly_capacity_hours: Decimal = Decimal(40)
    org_unit: str | None = None
    cost_centre_id: str | None = None
    skills: tuple[str, ...] = ()
    email: str | None = None  # identities other systems know the person by (matched by mappings)
    employee_number: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        require(bool(self.name.strip()), "name", "must not be blank")
        check_id(self.legal_entity_id, "legal_entity_id")
        require(bool(self.role.strip()), "role", "must not be blank")
        check_non_negative(self.cost_rate, "cost_rate")
        require(
            Decimal(0) <= self.weekly_capacity_hours <= Decimal(168),
            "weekly_capacity_hours",
            "must be between 0 and 168",
        )
