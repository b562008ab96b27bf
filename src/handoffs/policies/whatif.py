"""What-if: decide a period's records under the policies in force and under a proposed version.

Pure: the caller passes the facts of every approved time entry and expense of the period
(read from the store, never written) and two policy books. The result lists each record
whose decision changes, and the differences in invoiced amounts, time-and-materials
revenue (recognised as delivered, so equal to what is billed) and exceptions by rule.
Amounts are the hub's own pricing: hours times the rate-card rate in force, expenses at
cost plus the contract's markup (same-currency only; others are counted but not priced).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from handoffs.domain.errors import DomainError
from handoffs.domain.pricing import price_entry
from handoffs.policies.evaluate import Decision, ExpenseFacts, TimeFacts, evaluate_expense, evaluate_time
from handoffs.policies.model import Policy, PolicyBook

__all__ = ["Change", "WhatIf", "what_if"]

Select = Callable[[PolicyBook, Any], Policy | None]


@dataclass(frozen=True, slots=True)
class Change:
    record_type: str
    record_id: str
    project_id: str
    before: Decision
    after: Decision
    amount: Decimal  # what the record bills when accepted (0 when not priced)


@dataclass(slots=True)
class WhatIf:
    period: str
    proposed: str
    currency: dict[str, str] = field(default_factory=dict)  # project -> currency
    invoiced_before: Counter[str] = field(default_factory=Counter)
    invoiced_after: Counter[str] = field(default_factory=Counter)
    exceptions_before: Counter[str] = field(default_factory=Counter)
    exceptions_after: Counter[str] = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)
    records: int = 0

    def as_dict(self) -> dict[str, Any]:
        projects = sorted(set(self.invoiced_before) | set(self.invoiced_after))
        rules = sorted(set(self.exceptions_before) | set(self.exceptions_after))
        return {
            "period": self.period,
            "proposed": self.proposed,
            "records": self.records,
            "invoices": [
                {
                    "project_id": p,
                    "currency": self.currency.get(p),
                    "before": _cents(self.invoiced_before[p]),
                    "after": _cents(self.invoiced_after[p]),
                    "difference": _cents(self.invoiced_after[p] - self.invoiced_before[p]),
                }
                for p in projects
                if self.invoiced_before[p] != self.invoiced_after[p]
            ],
            "invoiced_total": {
                "before": _cents(sum(self.invoiced_before.values(), Decimal(0))),
                "after": _cents(sum(self.invoiced_after.values(), Decimal(0))),
            },
            "revenue_total": {  # time and materials: recognised as delivered, as billed
                "before": _cents(sum(self.invoiced_before.values(), Decimal(0))),
                "after": _cents(sum(self.invoiced_after.values(), Decimal(0))),
            },
            "exceptions": {r: [self.exceptions_before[r], self.exceptions_after[r]] for r in rules},
            "changes": [
                {
                    "record": f"{c.record_type} {c.record_id}",
                    "project_id": c.project_id,
                    "before": f"{c.before.outcome} {c.before.rule} ({c.before.policy_ref})",
                    "after": f"{c.after.outcome} {c.after.rule} ({c.after.policy_ref})",
                    "amount": str(c.amount),
                }
                for c in sorted(self.changes, key=lambda c: (c.record_type, c.record_id))
            ],
        }


def _cents(amount: Decimal | int) -> str:
    """Totals are shown to the cent, half-up (entries are summed unrounded)."""
    return str(Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _time_amount(facts: TimeFacts) -> Decimal:
    entry, ctx = facts.entry, facts.context
    contract = ctx.contract
    if contract is None or contract.billing_model != "time_and_materials" or not entry.billable:
        return Decimal(0)
    if not ctx.project.billable:
        return Decimal(0)
    role = entry.role or next((a.role for a in ctx.assignments if a.id == entry.assignment_id), None)
    role = role or (ctx.resource.role if ctx.resource else None)
    try:
        priced = price_entry(entry, contract, role or "")
        return priced.rate.amount * priced.hours
    except DomainError:
        return Decimal(0)


def _expense_amount(facts: ExpenseFacts) -> Decimal:
    expense, contract = facts.expense, facts.context.contract
    if contract is None or not expense.billable or expense.amount.currency != contract.currency:
        return Decimal(0)
    return expense.amount.amount * (Decimal(1) + contract.expense_markup)


def _on_time(facts: TimeFacts, policy: Policy | None) -> Decision:
    return evaluate_time(policy, facts)


def _on_expense(facts: ExpenseFacts, policy: Policy | None) -> Decision:
    return evaluate_expense(policy, facts)


def what_if(
    period: str,
    current: PolicyBook,
    proposed: Policy,
    time: Sequence[TimeFacts],
    expenses: Sequence[ExpenseFacts],
    select: Select,
) -> WhatIf:
    """Decide every record under ``current`` and under ``current`` plus ``proposed`` (in force all period).

    ``select(book, context)`` picks the policy a book applies to a record's context.
    """
    first = min([f.context.day for f in time] + [f.context.day for f in expenses], default=None)
    trial = current.as_of(proposed, first) if first is not None else current.with_policy(proposed)
    result = WhatIf(period, proposed.ref)
    items: list[tuple[str, str, Any, Callable[[Policy | None], Decision], Decimal]] = []
    for t in time:
        items.append(("time_entry", t.entry.id, t.context, partial(_on_time, t), _time_amount(t)))
    for x in expenses:
        items.append(("expense", x.expense.id, x.context, partial(_on_expense, x), _expense_amount(x)))
    for kind, id_, ctx, decide, amount in items:
        result.records += 1
        project = ctx.project.id
        if ctx.contract is not None:
            result.currency[project] = ctx.contract.currency
        before, after = decide(select(current, ctx)), decide(select(trial, ctx))
        for decision, invoiced, raised in (
            (before, result.invoiced_before, result.exceptions_before),
            (after, result.invoiced_after, result.exceptions_after),
        ):
            if decision.outcome == "accept":
                invoiced[project] += amount  # type: ignore[assignment]
            if decision.outcome == "reject":
                raised[decision.rule] += 1
        if (before.outcome, before.rule) != (after.outcome, after.rule):
            result.changes.append(Change(kind, id_, project, before, after, amount))
    return result
