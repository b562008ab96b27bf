"""The billing run for one project and period: recognise revenue, invoice, journal.

It runs whenever approved time is priced (time and materials) and when a person closes a
billing period (``handoffs bill``), so fixed fees and accepted milestones are invoiced too.
It is idempotent: everything it bills or recognises is marked, and a second run with
nothing new does nothing. Order matters for the books, so revenue is journalled before
the invoice, each against the contract's position at that moment.

A period that is closed for the legal entity is never posted into: the run moves to the
next open period, and the journals say why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handoffs.domain.billing import Invoice, RevenueEvent
from handoffs.domain.contract_billing import bill_installments, bill_milestones, bill_time_and_materials
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import DomainError
from handoffs.domain.expenses import expense_charge
from handoffs.domain.journals import (
    journal_for_expense_claim,
    journal_for_invoice,
    journal_for_revenue,
)
from handoffs.domain.money import Money
from handoffs.domain.periods import PeriodCalendar, next_period, period_of
from handoffs.domain.pricing import period_bounds
from handoffs.domain.revenue import (
    cost_to_date,
    recognise_as_delivered,
    recognise_milestones,
    recognise_percent_complete,
)
from handoffs.domain.work import Expense, Project
from handoffs.flows.billing_context import BillingContext
from handoffs.flows.billing_retainer import retainer_due, with_retainer
from handoffs.flows.credits import discount_revenue

__all__ = ["BillingContext", "open_period", "run_billing"]


def open_period(calendar: PeriodCalendar, legal_entity_id: str, period: str) -> str:
    """``period`` itself when open, else the next open period (late items land there)."""
    while calendar.is_closed(legal_entity_id, period):
        period = next_period(period)
    return period


def _numbered(prefix: str, taken: set[str]) -> str:
    if prefix not in taken:
        return prefix
    n = 2
    while f"{prefix}-{n:02d}" in taken:
        n += 1
    return f"{prefix}-{n:02d}"


def run_billing(
    uow: Any, project: Project, contract: Contract, period: str, issue_date: date | None = None
) -> Invoice | None:
    """Recognise, invoice and journal what is due for ``project`` up to ``period``'s end."""
    # Installments due on an event: on completion (the project closed), on a milestone's acceptance.
    contract = contract.with_event_dates(project.end_date if project.status == "closed" else None)
    ctx = BillingContext(uow, project, contract)
    period = open_period(ctx.calendar, contract.legal_entity_id, period)
    if contract.billing_model == "time_and_materials" and not _has_work(ctx, period):
        return None  # asked again by a later approval batch: nothing new since the last run
    for event in _recognise(ctx, period):
        book_revenue(ctx, event)
    invoice = _invoice(ctx, period, issue_date)
    if invoice is not None:
        given = discount_revenue(invoice, f"REV-{invoice.id}-DISCOUNT", contract.billing_model)
        if given is not None:  # revenue is net of the discount
            book_revenue(ctx, given)
        entry = journal_for_invoice(
            invoice,
            entry_id=f"JE-{invoice.id}",
            chart=ctx.chart,
            calendar=ctx.calendar,
            position=ctx.position,
        )
        if entry is not None:
            ctx.add_journal(entry)
        ctx.documents.append(invoice)
    _journal_claims(ctx, period_bounds(period)[1])
    return invoice


def _has_work(ctx: BillingContext, period: str) -> bool:
    last = period_bounds(period)[1]
    entries = ctx.uow.time_entries
    return bool(
        entries.has_billing_candidates(ctx.project.id, last)
        or entries.has_unrecognised(ctx.project.id, last)
        or _unrecognised_expenses(ctx, last)
        or _unbilled_expenses(ctx, last)
        or retainer_due(ctx, last)
    )


def _unbilled_expenses(ctx: BillingContext, last: date) -> list[str]:
    due = [x.id for x in ctx.expenses() if x.status == "approved" and x.billable and x.incurred_on <= last]
    billed = ctx.uow.invoices.billed("expense", due) if due else set()
    return [x for x in due if x not in billed]


def book_revenue(ctx: BillingContext, event: RevenueEvent) -> None:
    entry = journal_for_revenue(
        event, entry_id=f"JE-{event.id}", chart=ctx.chart, calendar=ctx.calendar, position=ctx.position
    )
    ctx.uow.finance.add_revenue_event(event)
    if entry is not None:
        ctx.add_journal(entry)
    ctx.events.append(event)


def _recognise(ctx: BillingContext, period: str) -> list[RevenueEvent]:
    contract, project = ctx.contract, ctx.project
    _, last = period_bounds(period)
    taken = {e.id for e in ctx.events}
    event_id = _numbered(f"REV-{contract.id}-{period}", taken)
    if contract.billing_model == "time_and_materials":
        return _recognise_delivered(ctx, last)
    if contract.billing_model == "fixed_fee":
        worked = ctx.uow.time_entries.approved_for_project(project.id)
        people = {e.resource_id for e in worked}
        # Cost rates in another currency (a consultant of another entity) at the period-end rate.
        resources = {
            r.id: ctx.fx.convert(r.cost_rate, contract.currency, last).converted
            for r in ctx.uow.objects.all("resource")
            if r.id in people
        }
        cost = cost_to_date(
            worked,
            resources,
            project_id=project.id,
            period=period,
            currency=contract.currency,
            rounding=ctx.rounding,
        )
        before = Money.sum([e.amount for e in ctx.events], contract.currency)
        poc = recognise_percent_complete(
            event_id=event_id,
            contract=contract,
            estimated_cost=contract.estimate_on(last),  # in force at the period's end
            project_id=project.id,
            period=period,
            cost=cost,
            recognised_to_date=before,
            rounding=ctx.rounding,
        )
        return [poc.event] if poc.event is not None else []
    prefix = f"REV-{contract.id}"
    recognised = [e.id.removeprefix(f"{prefix}-") for e in ctx.events if e.method == "milestone"]
    return list(
        recognise_milestones(
            contract=contract,
            project_id=project.id,
            period=period,
            recognised=recognised,
            event_id_prefix=f"REV-{contract.id}",
        )
    )


def _recognise_delivered(ctx: BillingContext, last: date) -> list[RevenueEvent]:
    """Time and materials: one event per period the work was delivered in (a late item's
    event belongs to its own period; its journal lands in the next open one)."""
    contract, project = ctx.contract, ctx.project
    priced = ctx.uow.time_entries.unrecognised(project.id, last)
    spent = _unrecognised_expenses(ctx, last)
    periods = sorted({period_of(p.work_date) for p in priced} | {period_of(x.incurred_on) for x in spent})
    events: list[RevenueEvent] = []
    for period in periods:
        time = [p for p in priced if period_of(p.work_date) == period]
        costs = [x for x in spent if period_of(x.incurred_on) == period]
        before = Money.sum(
            [e.amount for e in (*ctx.events, *events) if e.method == "as_delivered"], contract.currency
        )
        event_id = _numbered(f"REV-{contract.id}-{period}", {e.id for e in (*ctx.events, *events)})
        event = recognise_as_delivered(
            event_id=event_id,
            contract=contract,
            project_id=project.id,
            period=period,
            priced=time,
            expense_charges=[expense_charge(x, contract, ctx.fx, ctx.rounding)[1] for x in costs],
            time_recognised_to_date=before,
            rounding=ctx.rounding,
        )
        ctx.uow.time_entries.mark_recognised([p.entry_id for p in time], event_id)
        ctx.uow.finance.mark_recognised("expense", [x.id for x in costs], event_id)
        if event is not None:
            events.append(event)
    return events


def _unrecognised_expenses(ctx: BillingContext, last: date) -> list[Expense]:
    due = [x for x in ctx.expenses() if x.status == "approved" and x.billable and x.incurred_on <= last]
    done = ctx.uow.finance.recognised("expense", [x.id for x in due])
    return [x for x in due if x.id not in done]


def _journal_claims(ctx: BillingContext, last: date) -> None:
    """Reimbursable expenses owe their claimant: one journal per approved claim, once."""
    for expense in ctx.expenses():
        if expense.status != "approved" or not expense.reimbursable or expense.incurred_on > last:
            continue
        entry_id = f"JE-CLAIM-{expense.id}"
        if ctx.uow.finance.journal(entry_id) is None:
            resource = ctx.uow.objects.get("resource", expense.resource_id)
            entity = resource.legal_entity_id if resource else ctx.contract.legal_entity_id
            functional = ctx.uow.objects.get("legal_entity", entity)
            try:  # the claim is journalled in the claimant's entity's functional currency
                conversion = ctx.fx.convert(expense.amount, functional.currency, expense.incurred_on)
            except DomainError as exc:
                ctx.unconvertible(expense, str(exc))
                continue
            ctx.uow.finance.add_journal(
                journal_for_expense_claim(
                    expense,
                    entry_id=entry_id,
                    legal_entity_id=entity,
                    chart=ctx.chart,
                    calendar=ctx.calendar,
                    conversion=conversion,
                )
            )


def _invoice(ctx: BillingContext, period: str, issue_date: date | None) -> Invoice | None:
    contract, project, uow = ctx.contract, ctx.project, ctx.uow
    number = uow.invoices.count_for(project.id, period) + 1
    invoice_id = f"INV-{project.id}-{period}-{number:02d}"
    ledger = ctx.ledger()
    common: dict[str, Any] = dict(
        invoice_id=invoice_id,
        contract=contract,
        project_id=project.id,
        period=period,
        ledger=ledger,
        expenses=ctx.expenses(),
        fx=ctx.fx,
        tax_code=ctx.tax_code,
        rounding=ctx.rounding,
        issue_date=issue_date,
        tax_codes=ctx.tax_codes,
    )
    if contract.billing_model == "fixed_fee":
        return _store(ctx, bill_installments(**common))
    if contract.billing_model == "milestone":
        return _store(ctx, bill_milestones(**common))
    _, last = period_bounds(period)
    candidates = uow.time_entries.billing_candidates(project.id, last)  # priced, so each carries its role
    run = bill_time_and_materials(entries=candidates, **common)
    already = [
        d.entry_id for d in run.time.dispositions if d.reason.startswith("billed exactly once: already")
    ]
    if already:  # billed on an invoice that was loaded, not generated here
        uow.time_entries.set_state(already, "billed")
    if run.time.write_down is not None:
        _propose_write_down(ctx, run.time.write_down, period)
    return _store(ctx, with_retainer(ctx, run.invoice, invoice_id, period, issue_date))


def _propose_write_down(ctx: BillingContext, proposal: Any, period: str) -> None:
    items = [{"entry": i.entry_id, "hours": str(i.hours), "rate": str(i.rate.amount)} for i in proposal.items]
    ctx.uow.finance.add_proposal(
        id=proposal.id,
        kind="write_down",
        contract_id=ctx.contract.id,
        project_id=ctx.project.id,
        period=period,
        amount=proposal.amount.amount,
        currency=proposal.amount.currency,
        doc={"hours": str(proposal.hours), "items": items, "reason": proposal.reason},
    )
    # Held until a person decides; the part of a split entry that fits the cap is billed (see _store).
    ctx.uow.time_entries.set_state([i.entry_id for i in proposal.items], "held")


def _store(ctx: BillingContext, invoice: Invoice | None) -> Invoice | None:
    if invoice is None:
        return None
    ctx.uow.invoices.add(invoice, f"project:{ctx.project.id}")
    billed = [s.id for s in invoice.sources if s.type == "time_entry"]
    if billed:
        ctx.uow.time_entries.set_state(billed, "billed")
    return invoice
