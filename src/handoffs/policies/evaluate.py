"""Evaluate a policy over domain objects: pure, deterministic, one decision naming its rule.

Rules run in a fixed order and the first that fails decides:

    project.active -> resource.assigned -> approvals.self_approval -> approvals.<rule name>
    -> billable.internal_project / billable.non_billable_task -> tax.code_required /
    tax.code_valid / tax.code_allowed -> gl.subsidiary -> gl.cost_centre -> gl.expense_account

``reject`` means the record becomes an exception naming the rule; ``not_billable`` means it
is kept out of billing; ``accept`` lets it through to pricing (or billing, for expenses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from handoffs.domain.contracts import Contract
from handoffs.domain.errors import DomainError
from handoffs.domain.parties import Customer, Resource
from handoffs.domain.reference import GlAccount, LegalEntity, TaxCode
from handoffs.domain.tax import resolve_tax_code
from handoffs.domain.work import Assignment, Expense, Project, TimeEntry
from handoffs.policies.model import Policy

__all__ = [
    "Decision",
    "ExpenseFacts",
    "TimeFacts",
    "approvers_of",
    "evaluate_expense",
    "evaluate_time",
    "facts_context",
]

Outcome = Literal["accept", "not_billable", "reject"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a policy decided for one record, and under which rule and policy version."""

    outcome: Outcome
    rule: str
    reason: str
    policy: str | None = None  # policy name
    version: int | None = None

    @property
    def policy_ref(self) -> str:
        return f"{self.policy}@v{self.version}" if self.policy else "none"


@dataclass(frozen=True, slots=True)
class _Context:
    """What the rules shared by time and expenses read."""

    project: Project
    resource_id: str
    day: date
    assignments: Sequence[Assignment] = ()
    resource: Resource | None = None
    entity: LegalEntity | None = None
    contract: Contract | None = None
    customer: Customer | None = None
    tax_codes: Mapping[str, TaxCode] = field(default_factory=dict)
    gl_accounts: Sequence[GlAccount] = ()


@dataclass(frozen=True, slots=True)
class TimeFacts:
    entry: TimeEntry
    context: _Context


@dataclass(frozen=True, slots=True)
class ExpenseFacts:
    expense: Expense
    context: _Context


def facts_context(**kw: object) -> _Context:
    """Build the shared facts (project, resource_id, day, and any of the optional objects)."""
    return _Context(**kw)  # type: ignore[arg-type]


def approvers_of(approved_by: str | None) -> tuple[str, ...]:
    """The approval chain: ``approved_by`` lists approvers in order, separated by commas."""
    if not approved_by:
        return ()
    seen: list[str] = []
    for name in (p.strip() for p in approved_by.replace(";", ",").split(",")):
        if name and name not in seen:
            seen.append(name)
    return tuple(seen)


def _decide(policy: Policy | None, outcome: Outcome, rule: str, reason: str) -> Decision:
    return Decision(
        outcome, rule, reason, policy.name if policy else None, policy.version if policy else None
    )


def _common(policy: Policy | None, ctx: _Context, assignment_id: str | None) -> Decision | None:
    checks = policy.checks if policy else None
    day = ctx.day.isoformat()
    if (checks is None or checks.project_active) and ctx.project.status != "active":
        return _decide(
            policy, "reject", "project.active", f"project {ctx.project.id} is {ctx.project.status}"
        )
    if checks is None or checks.resource_assigned:
        staffed = [
            a
            for a in ctx.assignments
            if a.resource_id == ctx.resource_id
            and a.project_id == ctx.project.id
            and a.covers(ctx.day)
            and (assignment_id is None or a.id == assignment_id)
        ]
        if not staffed:
            return _decide(
                policy,
                "reject",
                "resource.assigned",
                f"{ctx.resource_id} is not assigned to {ctx.project.id} on {day}",
            )
    return None


def _amount(entry: TimeEntry, ctx: _Context) -> Decimal | None:
    contract, role = ctx.contract, entry.role
    if role is None and ctx.assignments:
        role = next((a.role for a in ctx.assignments if a.id == entry.assignment_id), None)
    role = role or (ctx.resource.role if ctx.resource else None)
    if contract is None or role is None or contract.billing_model != "time_and_materials":
        return None
    try:
        _, rate = contract.rate_for(role, entry.work_date)
    except DomainError:
        return None
    return rate.amount * entry.hours


def _finance(policy: Policy, ctx: _Context, billable: bool, category: str | None) -> Decision | None:
    """Tax treatment and GL coding, for records that reach finance."""
    entity = ctx.entity
    if billable and ctx.contract is not None and entity is not None:
        try:
            code = resolve_tax_code(ctx.contract, entity, ctx.tax_codes, ctx.customer)
        except DomainError as exc:
            return _decide(policy, "reject", "tax.code_valid", str(exc))
        if policy.tax.require_code and code is None:
            return _decide(policy, "reject", "tax.code_required", f"no tax code applies to {ctx.contract.id}")
        if code is not None and policy.tax.allowed_codes and code.id not in policy.tax.allowed_codes:
            return _decide(policy, "reject", "tax.code_allowed", f"tax code {code.id} is not allowed here")
    gl = policy.gl
    entity_id = ctx.project.legal_entity_id
    if gl.require_subsidiary and not (gl.subsidiaries.get(entity_id) or (entity and entity.erp_subsidiary)):
        return _decide(policy, "reject", "gl.subsidiary", f"legal entity {entity_id} has no ERP subsidiary")
    centre = ctx.project.cost_centre_id or (ctx.resource.cost_centre_id if ctx.resource else None)
    if gl.require_cost_centre and centre is None:
        return _decide(
            policy, "reject", "gl.cost_centre", f"no cost centre on {ctx.project.id} or its resource"
        )
    if category is not None and gl.expense_accounts:
        account = gl.expense_accounts.get(category)
        if account is None:
            return _decide(policy, "reject", "gl.expense_account", f"no GL account for category {category!r}")
        chart = {a.number for a in ctx.gl_accounts if a.legal_entity_id == entity_id}
        if chart and account not in chart:
            return _decide(
                policy, "reject", "gl.expense_account", f"account {account} is not in {entity_id}'s chart"
            )
    return None


def evaluate_time(policy: Policy | None, facts: TimeFacts) -> Decision:
    """Decide one approved time entry before it is priced."""
    entry, ctx = facts.entry, facts.context
    found = _common(policy, ctx, entry.assignment_id)
    if found is not None or policy is None:
        return found or _decide(policy, "accept", "accepted", "no policy in force: structural checks passed")
    chain = approvers_of(entry.approved_by)
    if policy.checks.no_self_approval and entry.resource_id in chain:
        return _decide(
            policy, "reject", "approvals.self_approval", f"{entry.resource_id} approved their own time"
        )
    amount = None
    for rule in (r for r in policy.approvals if r.applies_to == "time"):
        if rule.amount_over is not None and amount is None:
            amount = _amount(entry, ctx)
        if rule.triggered(entry.hours, amount) and len(chain) < rule.approvers:
            return _decide(
                policy,
                "reject",
                f"approvals.{rule.name}",
                f"{entry.hours} h needs {rule.approvers} approvers, has {len(chain)}",
            )
    if policy.billable.internal(ctx.project.id):
        return _decide(policy, "not_billable", "billable.internal_project", f"{ctx.project.id} is internal")
    if entry.task is not None and entry.task in policy.billable.non_billable_tasks:
        return _decide(
            policy, "not_billable", "billable.non_billable_task", f"task {entry.task!r} is not billed"
        )
    billable = entry.billable and ctx.project.billable
    return _finance(policy, ctx, billable, None) or _decide(policy, "accept", "accepted", "every rule passed")


def evaluate_expense(policy: Policy | None, facts: ExpenseFacts) -> Decision:
    """Decide one approved expense before it may be billed or posted."""
    expense, ctx = facts.expense, facts.context
    found = _common(policy, ctx, None)
    if found is not None or policy is None:
        return found or _decide(policy, "accept", "accepted", "no policy in force: structural checks passed")
    for rule in (r for r in policy.approvals if r.applies_to == "expense"):
        if rule.triggered(None, expense.amount.amount) and rule.receipt and not expense.has_receipt:
            return _decide(policy, "reject", f"approvals.{rule.name}", f"{expense.amount} needs a receipt")
    billable = expense.billable and ctx.project.billable
    found = _finance(policy, ctx, billable, expense.category)
    return found or _decide(policy, "accept", "accepted", "every rule passed")
