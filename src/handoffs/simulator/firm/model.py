"""The generated firm: canonical objects plus the facts only the source systems know."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from handoffs.domain.billing import Invoice, Payment
from handoffs.domain.contracts import Contract
from handoffs.domain.money import Money
from handoffs.domain.parties import Customer, Resource
from handoffs.domain.reference import CostCentre, Currency, FxRate, GlAccount, LegalEntity, TaxCode
from handoffs.domain.work import Assignment, Expense, Project, ResourceRequest, TimeEntry
from handoffs.simulator.firm.sizes import FirmSize

__all__ = ["CloseDay", "ExpenseInfo", "Firm", "Opportunity", "TimeEvent"]

TimeEventKind = Literal["created", "submitted", "rejected", "resubmitted", "approved"]


@dataclass(frozen=True, slots=True)
class TimeEvent:
    """One step in a time entry's life in the time-tracking tool."""

    entry_id: str
    kind: TimeEventKind
    at: datetime
    actor: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ExpenseInfo:
    """What the expense tool knows about an expense beyond the canonical object."""

    expense_id: str
    report_id: str
    merchant: str
    policy_limit: Money
    over_policy: bool
    submitted_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class CloseDay:
    """When a legal entity closes a period: the n-th working day of the next month."""

    legal_entity_id: str
    period: str
    working_day: int
    close_date: date


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A CRM deal; won deals carry the contract they became."""

    id: str
    customer_id: str
    name: str
    stage: str
    is_won: bool
    is_closed: bool
    probability: int
    close_date: date
    amount: Money
    contract_id: str | None
    modified_at: datetime
    lines: tuple[dict[str, Any], ...] = ()


@dataclass(slots=True)
class Firm:
    """Everything one seed generates; lists are in a stable, deterministic order."""

    seed: int
    size: FirmSize
    as_of: date
    legal_entities: list[LegalEntity] = field(default_factory=list)
    currencies: list[Currency] = field(default_factory=list)
    fx_rates: list[FxRate] = field(default_factory=list)
    tax_codes: list[TaxCode] = field(default_factory=list)
    gl_accounts: list[GlAccount] = field(default_factory=list)
    cost_centres: list[CostCentre] = field(default_factory=list)
    close_calendar: list[CloseDay] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    requests: list[ResourceRequest] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    time_entries: list[TimeEntry] = field(default_factory=list)
    expenses: list[Expense] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    time_events: list[TimeEvent] = field(default_factory=list)
    expense_info: dict[str, ExpenseInfo] = field(default_factory=dict)
    managers: dict[str, str] = field(default_factory=dict)  # resource id -> approver id

    def canonical_objects(self) -> list[object]:
        """All canonical objects in file order: reference data first, then parties, then work."""
        return [
            *self.legal_entities,
            *self.currencies,
            *self.fx_rates,
            *self.tax_codes,
            *self.gl_accounts,
            *self.cost_centres,
            *self.customers,
            *self.resources,
            *self.contracts,
            *self.projects,
            *self.requests,
            *self.assignments,
            *self.time_entries,
            *self.expenses,
            *self.invoices,
            *self.payments,
        ]

    def fx_to(self, currency: str, quote: str) -> Decimal:
        """The latest rate converting one unit of ``currency`` into ``quote``."""
        if currency == quote:
            return Decimal(1)
        rates = [r for r in self.fx_rates if r.base == currency and r.quote == quote]
        if rates:
            return max(rates, key=lambda r: r.effective_date).rate
        inverse = [r for r in self.fx_rates if r.base == quote and r.quote == currency]
        return (Decimal(1) / max(inverse, key=lambda r: r.effective_date).rate).quantize(Decimal("0.000001"))
