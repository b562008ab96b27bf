"""Contracts: billing model, effective-dated rate cards, installments and milestones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from handoffs.domain.errors import NoEffectiveRate
from handoffs.domain.money import Money, check_currency
from handoffs.domain.rules import check_id, check_non_negative, check_range, require

__all__ = [
    "BillingModel",
    "Contract",
    "EstimateRevision",
    "Installment",
    "Milestone",
    "RateCardVersion",
    "Retainer",
]

BillingModel = Literal["time_and_materials", "fixed_fee", "milestone"]


@dataclass(frozen=True, kw_only=True, slots=True)
class RateCardVersion:
    """Hourly rates by role, effective from a date until the next version takes over."""

    version: int
    effective_from: date
    rates: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require(self.version >= 1, "version", "must be 1 or more")
        require(bool(self.rates), "rates", "must name at least one role")
        for role, rate in self.rates.items():
            require(bool(role.strip()), "rates", "role names must not be blank")
            require(rate >= 0, f"rates.{role}", "must not be negative")


@dataclass(frozen=True, kw_only=True, slots=True)
class Installment:
    """One scheduled fixed-fee invoice, due on a date or on an event.

    ``due_on`` names the event: ``completion`` (the project is closed; due on its end date)
    or ``acceptance:<milestone id>`` (due when that milestone of the contract is accepted).
    Until the event happens the installment has no ``due_date`` and is not billed.
    """

    id: str
    amount: Money
    due_date: date | None = None
    due_on: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        check_non_negative(self.amount, "amount")
        require(
            self.due_date is not None or self.due_on is not None, "due_date", "a date or an event (due_on)"
        )
        require(
            self.due_on is None or self.due_on == "completion" or self.due_on.startswith("acceptance:"),
            "due_on",
            "must be completion or acceptance:<milestone id>",
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Milestone:
    """A deliverable billed when the client accepts it."""

    id: str
    name: str
    amount: Money
    accepted_on: date | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        check_non_negative(self.amount, "amount")


@dataclass(frozen=True, kw_only=True, slots=True)
class EstimateRevision:
    """A revised cost estimate of a fixed fee, in force from ``effective_from``."""

    effective_from: date
    estimated_cost: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class Retainer:
    """An amount invoiced in advance, on the first invoice on or after ``invoice_on``, that
    later invoices of the contract draw down (see ``retainers.py``)."""

    amount: Money
    invoice_on: date

    def __post_init__(self) -> None:
        require(self.amount.amount > 0, "retainer.amount", "must be positive")


@dataclass(frozen=True, kw_only=True, slots=True)
class Contract:
    """The commercial terms sold to a customer, as billed by one legal entity."""

    id: str
    customer_id: str
    legal_entity_id: str
    currency: str
    billing_model: BillingModel
    start_date: date
    end_date: date | None = None
    rate_card: tuple[RateCardVersion, ...] = ()
    cap: Money | None = None
    fixed_fee: Money | None = None
    installments: tuple[Installment, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    estimated_cost: Money | None = None
    expense_markup: Decimal = Decimal(0)
    tax_code_id: str | None = None
    payment_terms_days: int = 30
    retainer: Retainer | None = None
    # Later estimates, each from its date (the one in force at a period's end is used there).
    estimate_revisions: tuple[EstimateRevision, ...] = ()
    time_discount: Decimal = Decimal(0)  # a fraction of each invoice's time (0.10 = 10 %)
    time_discount_amount: Money | None = None  # or a fixed amount off each invoice's time

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.customer_id, "customer_id")
        check_id(self.legal_entity_id, "legal_entity_id")
        check_currency(self.currency)
        require(
            self.billing_model in ("time_and_materials", "fixed_fee", "milestone"),
            "billing_model",
            "must be time_and_materials, fixed_fee or milestone",
        )
        check_range(self.start_date, self.end_date)
        versions = [v.version for v in self.rate_card]
        require(len(set(versions)) == len(versions), "rate_card", "version numbers must be unique")
        starts = [v.effective_from for v in self.rate_card]
        require(len(set(starts)) == len(starts), "rate_card", "two versions start on one date")
        require(Decimal(0) <= self.time_discount < 1, "time_discount", "must be a fraction from 0 to below 1")
        require(
            not (self.time_discount and self.time_discount_amount),
            "time_discount",
            "a percentage or an amount",
        )
        for name in ("cap", "fixed_fee", "estimated_cost", "time_discount_amount"):
            amount = getattr(self, name)
            if amount is not None:
                require(amount.currency == self.currency, name, f"must be in {self.currency}")
                check_non_negative(amount, name)
        names = {m.id for m in self.milestones}
        for i, inst in enumerate(self.installments):
            if inst.due_on and inst.due_on.startswith("acceptance:"):
                require(
                    inst.due_on[11:] in names,
                    f"installments[{i}].due_on",
                    "names no milestone of the contract",
                )
        schedule: list[Installment | Milestone] = [*self.installments, *self.milestones]
        for i, item in enumerate(schedule):
            require(item.amount.currency == self.currency, f"schedule[{i}]", f"must be in {self.currency}")
        require(self.expense_markup >= 0, "expense_markup", "must not be negative")
        require(self.payment_terms_days >= 0, "payment_terms_days", "must not be negative")
        for i, rev in enumerate(self.estimate_revisions):
            require(
                rev.estimated_cost.currency == self.currency,
                f"estimate_revisions[{i}]",
                f"must be in {self.currency}",
            )
            check_non_negative(rev.estimated_cost, f"estimate_revisions[{i}]")
        if self.retainer is not None:
            require(self.retainer.amount.currency == self.currency, "retainer", f"must be in {self.currency}")
            require(
                self.billing_model == "time_and_materials", "retainer", "is drawn down by time and materials"
            )
        self._check_model()

    def _check_model(self) -> None:
        if self.billing_model == "time_and_materials":
            require(bool(self.rate_card), "rate_card", "a time-and-materials contract needs one")
        elif self.billing_model == "fixed_fee":
            require(self.fixed_fee is not None, "fixed_fee", "a fixed-fee contract needs its fee")
            require(bool(self.installments), "installments", "a fixed-fee contract needs a schedule")
            total = Money.sum([i.amount for i in self.installments], self.currency)
            require(total == self.fixed_fee, "installments", "must add up to the fixed fee")
        else:
            require(bool(self.milestones), "milestones", "a milestone contract needs milestones")

    def with_event_dates(self, completed_on: date | None) -> Contract:
        """The contract with each event installment dated by its event, if it has happened.

        Args:
            completed_on: the project's completion date (its end date once closed), or None.
        """
        accepted = {m.id: m.accepted_on for m in self.milestones}

        def dated(inst: Installment) -> Installment:
            if inst.due_on is None:
                return inst
            day = completed_on if inst.due_on == "completion" else accepted.get(inst.due_on[11:])
            return replace(inst, due_date=day)

        return replace(self, installments=tuple(dated(i) for i in self.installments))

    def estimate_on(self, day: date) -> Money | None:
        """The cost estimate in force on ``day``: the latest revision from on or before it, else
        ``estimated_cost``."""
        found = [r for r in self.estimate_revisions if r.effective_from <= day]
        return max(found, key=lambda r: r.effective_from).estimated_cost if found else self.estimated_cost

    def rate_version_on(self, day: date) -> RateCardVersion:
        """The rate-card version in force on ``day`` (latest ``effective_from`` not after it)."""
        found: RateCardVersion | None = None  # one pass: this runs twice for every billed entry
        for v in self.rate_card:
            if v.effective_from <= day and (found is None or v.effective_from > found.effective_from):
                found = v
        if found is None:
            raise NoEffectiveRate(f"contract {self.id} has no rate card in force on {day.isoformat()}")
        return found

    def rate_for(self, role: str, day: date) -> tuple[RateCardVersion, Money]:
        """The version and hourly rate for ``role`` on ``day``."""
        version = self.rate_version_on(day)
        if role not in version.rates:
            raise NoEffectiveRate(
                f"contract {self.id} rate card v{version.version} has no rate for role {role!r}"
            )
        return version, Money(version.rates[role], self.currency)
