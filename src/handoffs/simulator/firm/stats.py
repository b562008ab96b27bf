"""Statistics measured on a generated firm (never asserted constants)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from handoffs.domain.catalog import type_name_of
from handoffs.simulator.firm.deals import window
from handoffs.simulator.firm.model import Firm
from handoffs.simulator.firm.sizes import add_working_days, last_working_days, month_starts, working_days

__all__ = ["firm_stats"]

LATE_APPROVAL_WORKING_DAYS = 5


def _ratio(part: Decimal | int, whole: Decimal | int) -> float:
    return round(float(Decimal(part) / Decimal(whole)), 4) if whole else 0.0


def _mix(counter: Counter[str]) -> dict[str, float]:
    total = sum(counter.values())
    return {key: _ratio(counter[key], total) for key in sorted(counter)}


def firm_stats(firm: Firm) -> dict[str, Any]:
    """Counts and shape statistics of ``firm``, computed from its records."""
    return {
        "seed": firm.seed,
        "size": firm.size.name,
        "window": {
            "from": window(firm)[0].isoformat(),
            "to": window(firm)[1].isoformat(),
            "as_of": firm.as_of.isoformat(),
        },
        "counts": dict(sorted(Counter(type_name_of(o) for o in firm.canonical_objects()).items())),
        "time": _time_stats(firm),
        "expenses": _expense_stats(firm),
        "contracts": _contract_stats(firm),
        "receivables": _receivable_stats(firm),
    }


def _time_stats(firm: Firm) -> dict[str, Any]:
    first, last = window(firm)
    days = len(working_days(first, last))
    capacity = sum((r.weekly_capacity_hours / 5 * days for r in firm.resources), Decimal(0))
    billable = sum((e.hours for e in firm.time_entries if e.billable), Decimal(0))
    internal = sum((e.hours for e in firm.time_entries if not e.billable), Decimal(0))
    submitted: dict[str, datetime] = {}
    approved: dict[str, datetime] = {}
    rejected: set[str] = set()
    resubmitted = 0
    for ev in firm.time_events:
        if ev.kind == "submitted":
            submitted[ev.entry_id] = ev.at
        elif ev.kind == "approved":
            approved[ev.entry_id] = ev.at
        elif ev.kind == "rejected":
            rejected.add(ev.entry_id)
        elif ev.kind == "resubmitted":
            resubmitted += 1
    per_month: dict[str, float] = {}
    for month in month_starts(first, firm.size.months):
        tail = set(last_working_days(month, 3))
        in_month = [e.id for e in firm.time_entries if e.work_date.replace(day=1) == month]
        peak = sum(1 for i in in_month if i in submitted and submitted[i].date() in tail)
        per_month[f"{month.year:04d}-{month.month:02d}"] = _ratio(peak, len(in_month))
    closes = {(c.legal_entity_id, c.period): c.close_date for c in firm.close_calendar}
    people = {r.id: r.legal_entity_id for r in firm.resources}
    late = 0
    for e in firm.time_entries:
        if e.id in approved:
            limit = add_working_days(submitted[e.id].date(), LATE_APPROVAL_WORKING_DAYS)
            close = closes.get((people[e.resource_id], e.period), date.max)
            late += approved[e.id].date() > limit or approved[e.id].date() > close
    assignments = {a.id: a for a in firm.assignments}
    outside = sum(
        1
        for e in firm.time_entries
        if e.assignment_id and not assignments[e.assignment_id].covers(e.work_date)
    )
    return {
        "entries": len(firm.time_entries),
        "hours_total": str(billable + internal),
        "hours_billable": str(billable),
        "hours_internal": str(internal),
        "capacity_hours": str(capacity),
        "utilisation": _ratio(billable, capacity),
        "month_end_submission_share": per_month,
        "month_end_submission_share_min": min(per_month.values()) if per_month else 0.0,
        "status": dict(sorted(Counter(e.status for e in firm.time_entries).items())),
        "submitted": len(submitted),
        "rejection_rate": _ratio(len(rejected), len(submitted)),
        "resubmissions": resubmitted,
        "late_approvals": late,
        "late_approval_rate": _ratio(late, len(approved)),
        "outside_assignment_dates": outside,
        "events": len(firm.time_events),
    }


def _expense_stats(firm: Firm) -> dict[str, Any]:
    homes = {r.id: r.legal_entity_id for r in firm.resources}
    le_ccy = {le.id: le.currency for le in firm.legal_entities}
    foreign = sum(1 for x in firm.expenses if x.amount.currency != le_ccy[homes[x.resource_id]])
    return {
        "count": len(firm.expenses),
        "reports": len({i.report_id for i in firm.expense_info.values()}),
        "currency_mix": _mix(Counter(x.amount.currency for x in firm.expenses)),
        "foreign_currency_share": _ratio(foreign, len(firm.expenses)),
        "categories": dict(sorted(Counter(x.category for x in firm.expenses).items())),
        "over_policy": sum(1 for i in firm.expense_info.values() if i.over_policy),
        "missing_receipt": sum(1 for x in firm.expenses if not x.has_receipt),
        "billable": sum(1 for x in firm.expenses if x.billable),
        "reimbursable": sum(1 for x in firm.expenses if x.reimbursable),
        "status": dict(sorted(Counter(x.status for x in firm.expenses).items())),
    }


def _contract_stats(firm: Firm) -> dict[str, Any]:
    first, last = window(firm)
    accepted = [
        m
        for c in firm.contracts
        for m in c.milestones
        if m.accepted_on is not None and first <= m.accepted_on <= last
    ]
    return {
        "billing_models": dict(sorted(Counter(c.billing_model for c in firm.contracts).items())),
        "capped": sum(1 for c in firm.contracts if c.cap is not None),
        "rate_cards_amended_in_window": sum(
            1 for c in firm.contracts if any(first <= v.effective_from <= last for v in c.rate_card[1:])
        ),
        "milestones_accepted_in_window": len(accepted),
        "currency_mix": _mix(Counter(c.currency for c in firm.contracts)),
        "open_requests": sum(1 for r in firm.requests if r.status == "open"),
        "assignments": len(firm.assignments),
        "opportunities": dict(sorted(Counter(o.stage for o in firm.opportunities).items())),
    }


def _receivable_stats(firm: Firm) -> dict[str, Any]:
    paid: dict[str, Decimal] = {}
    for p in firm.payments:
        paid[p.invoice_id] = paid.get(p.invoice_id, Decimal(0)) + p.amount.amount
    open_usd = invoiced_usd = Decimal(0)
    horizon = firm.as_of.toordinal() - 90
    for inv in firm.invoices:
        rate = firm.fx_to(inv.currency, "USD")
        open_usd += (inv.total.amount - paid.get(inv.id, Decimal(0))) * rate
        if inv.issue_date.toordinal() >= horizon:
            invoiced_usd += inv.total.amount * rate
    dso = (open_usd / invoiced_usd * 90).quantize(Decimal("0.1")) if invoiced_usd else Decimal(0)
    return {
        "invoices": len(firm.invoices),
        "payments": len(firm.payments),
        "open_receivables_usd": str(open_usd.quantize(Decimal("0.01"))),
        "dso_days": str(dso),
    }
