"""Billing readiness per project and period: "ready", or "blocked" with every reason.

Readiness is decided from what the hub already holds: the approved effort of the period,
the contract's terms (billing model, dates), milestone acceptance, the readiness rules of
the policy in force, and the open exceptions on the project for that period (or tied to no
period, such as a problem with its contract). Reasons (codes are stable):

    project_not_active  no_contract          contract_not_in_force   no_policy
    no_approved_effort  unapproved_time      unpriced_time           rejected_time
    milestone_not_accepted                   no_installment_due      open_exceptions

A project with an invoice for the period and nothing left to bill is "invoiced"; one whose
legal entity has closed the period is "closed" (anything still to bill for it is billed,
and posted, in the next open period), with the reasons that would have held it kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from handoffs.domain.contracts import Contract
from handoffs.domain.periods import PeriodCalendar
from handoffs.domain.pricing import period_bounds
from handoffs.domain.work import Project
from handoffs.flows.ports import Ports
from handoffs.flows.validation import policy_for
from handoffs.policies.model import Policy, ReadinessRules

__all__ = ["Readiness", "Reason", "assess", "contract_of", "parse_period", "period_readiness"]

Status = Literal["ready", "blocked", "invoiced", "closed"]


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Readiness:
    project_id: str
    period: str
    status: Status
    reasons: tuple[Reason, ...]
    approved_hours: Decimal
    policy: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "period": self.period,
            "status": self.status,
            "reasons": [{"code": r.code, "detail": r.detail} for r in self.reasons],
            "approved_hours": str(self.approved_hours),
            "policy": self.policy,
        }


def parse_period(period: str) -> tuple[Any, Any]:
    """The first and last day of ``YYYY-MM``; ValueError when it is not one."""
    try:
        return period_bounds(period)
    except Exception as exc:
        raise ValueError(f"period must be YYYY-MM, not {period!r}") from exc


def _terms(contract: Contract, first: Any, last: Any, rules: ReadinessRules) -> list[Reason]:
    reasons = []
    if contract.start_date > last or (contract.end_date is not None and contract.end_date < first):
        reasons.append(
            Reason("contract_not_in_force", f"{contract.id} runs {contract.start_date}..{contract.end_date}")
        )
    if contract.billing_model == "milestone" and rules.require_milestone_acceptance:
        accepted = [m for m in contract.milestones if m.accepted_on is not None and m.accepted_on <= last]
        waiting = [m.id for m in contract.milestones if m.accepted_on is None or m.accepted_on > last]
        if not accepted:
            reasons.append(Reason("milestone_not_accepted", f"awaiting acceptance: {', '.join(waiting)}"))
    if contract.billing_model == "fixed_fee" and not any(
        i.due_date is not None and first <= i.due_date <= last for i in contract.installments
    ):
        reasons.append(
            Reason("no_installment_due", f"no installment of {contract.id} falls due in the period")
        )
    return reasons


def assess(
    project: Project,
    contract: Contract | None,
    period: str,
    time: Sequence[Any],
    open_exceptions: Sequence[Any],
    invoiced: bool,
    policy: Policy | None,
    policies_configured: bool = False,
    closed: bool = False,
) -> Readiness:
    """Decide one project's readiness for ``period`` (pure: everything it reads is passed in)."""
    first, last = parse_period(period)
    rules = policy.readiness if policy else ReadinessRules()
    reasons: list[Reason] = []
    if project.status != "active":
        reasons.append(Reason("project_not_active", f"{project.id} is {project.status}"))
    if policies_configured and policy is None:
        reasons.append(Reason("no_policy", f"no policy is in force for {project.legal_entity_id} on {last}"))
    if contract is None:
        reasons.append(Reason("no_contract", f"contract {project.contract_id} is not in the hub"))
    else:
        reasons += _terms(contract, first, last, rules)
    billable = [t for t in time if t.billable]
    approved = [t for t in billable if t.status == "approved" and t.billing_state in ("priced", "billed")]
    hours = sum((t.hours for t in approved), Decimal(0))
    hourly = contract is not None and contract.billing_model == "time_and_materials"
    if hourly and rules.require_approved_effort and not approved:
        reasons.append(Reason("no_approved_effort", f"no approved billable time in {period}"))
    waiting = [t.id for t in billable if t.status in ("draft", "submitted")]
    if waiting and rules.block_on_unapproved_time:
        reasons.append(Reason("unapproved_time", f"{len(waiting)} entries await approval: {_few(waiting)}"))
    unpriced = [t.id for t in billable if t.status == "approved" and t.billing_state == "unpriced"]
    if unpriced and hourly:
        reasons.append(
            Reason("unpriced_time", f"{len(unpriced)} approved entries not priced: {_few(unpriced)}")
        )
    rejected = [t.id for t in time if t.billing_state == "rejected"]
    if rejected:
        reasons.append(
            Reason("rejected_time", f"{len(rejected)} entries rejected by policy: {_few(rejected)}")
        )
    if open_exceptions and rules.block_on_open_exceptions:
        kinds = Counter(e.rule or e.category for e in open_exceptions)
        listed = ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items()))
        reasons.append(Reason("open_exceptions", f"{len(open_exceptions)} open: {listed}"))
    left = any(t.billing_state == "priced" for t in approved)
    status: Status = "blocked" if reasons else ("invoiced" if invoiced and not left else "ready")
    if closed:
        status = "closed"
    return Readiness(project.id, period, status, tuple(reasons), hours, policy.ref if policy else None)


def _few(ids: Sequence[str], n: int = 3) -> str:
    return ", ".join(ids[:n]) + (", ..." if len(ids) > n else "")


def contract_of(uow: Any, project: Project) -> Contract | None:
    """The project's contract, its event installments dated by the events that happened."""
    contract: Contract | None = uow.objects.get("contract", project.contract_id or "")
    closed = project.end_date if project.status == "closed" else None
    return contract.with_event_dates(closed) if contract is not None else None


def period_readiness(uow: Any, reads: Any, ports: Ports, period: str) -> list[Readiness]:
    """Readiness of every billable project active in ``period``.

    Args:
        reads: the store's readiness reads (time of the period, open exceptions, invoices).
    """
    first, last = parse_period(period)
    time, problems, invoiced = reads.time(period), reads.open_exceptions(period), reads.invoiced(period)
    calendar = PeriodCalendar.from_entities(uow.objects.all("legal_entity")).with_closes(uow.periods.states())
    out = []
    for project in uow.objects.all("project"):
        if (
            not project.billable
            or project.start_date > last
            or (project.end_date and project.end_date < first)
        ):
            continue
        policy = policy_for(ports.policies, uow.objects, project, last) if ports.policies else None
        contract = contract_of(uow, project)
        out.append(
            assess(
                project,
                contract,
                period,
                time.get(project.id, []),
                problems.get(project.id, []),
                project.id in invoiced,
                policy,
                ports.policies is not None,
                calendar.is_closed(project.legal_entity_id, period),
            )
        )
    return out
