"""What a person does to billing: close a period, decide a proposal, amend (credit notes: crediting.py).

Each function takes a unit of work and ports, changes the books in that one transaction,
and publishes ``InvoiceGenerated`` for every new document so it is delivered to the ERP
like any other.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import orjson

from handoffs.domain.amendments import credit_and_rebill, guard_billed_edit, reprice_for_amendment
from handoffs.domain.billing import Invoice, SourceRef
from handoffs.domain.codec import decode, encode
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import DomainError, ValidationError
from handoffs.domain.journals import journal_for_invoice
from handoffs.domain.messages import BilledTimeChanged, ContractAmended, GenerateInvoice, InvoiceGenerated
from handoffs.domain.periods import period_of
from handoffs.domain.pricing import PricedEntry, period_bounds
from handoffs.domain.work import TimeEntry
from handoffs.engine.errors import TerminalError
from handoffs.engine.registry import Handler
from handoffs.flows.billing_context import BillingContext
from handoffs.flows.credits import recheck, withdraw_open_proposals
from handoffs.flows.ingest import correlation_for_project
from handoffs.flows.ports import Ports

__all__ = [
    "book_document",
    "context_for",
    "decide_proposal",
    "handlers",
    "request_billing",
    "revisit_proposals",
]


def request_billing(
    uow: Any, ports: Ports, period: str, project_id: str | None = None, issue_date: date | None = None
) -> list[str]:
    """Queue a billing run for every billable project active in ``period`` (or just one)."""
    first, last = period_bounds(period)
    stamp = ports.clock.now().isoformat()
    queued = []
    for project in uow.objects.all("project"):
        if project_id is not None and project.id != project_id:
            continue
        if (
            not project.billable
            or project.start_date > last
            or (project.end_date and project.end_date < first)
        ):
            continue
        uow.publish(
            GenerateInvoice(
                message_id=ports.ids.derive("bill", project.id, period, stamp, str(issue_date)),
                occurred_at=ports.clock.now(),
                correlation_id=correlation_for_project(project.id),
                project_id=project.id,
                period=period,
                issue_date=issue_date,
            )
        )
        queued.append(project.id)
    if project_id is not None and not queued:
        raise ValidationError("project", f"{project_id} is not a billable project active in {period}")
    return queued


def context_for(uow: Any, invoice: Invoice) -> BillingContext:
    project = uow.objects.get("project", invoice.project_id)
    contract = uow.objects.get("contract", invoice.contract_id)
    return BillingContext(uow, project, contract)


def book_document(uow: Any, ports: Ports, ctx: BillingContext, document: Invoice) -> None:
    """Store a document, release or bill its time, journal it, and send it to the ERP."""
    uow.invoices.add(document, correlation_for_project(document.project_id))
    time = [s.id for s in document.sources if s.type == "time_entry"]
    uow.time_entries.set_state(time, "priced" if document.kind == "credit_note" else "billed")
    entry = journal_for_invoice(
        document, entry_id=f"JE-{document.id}", chart=ctx.chart, calendar=ctx.calendar, position=ctx.position
    )
    if entry is not None:
        ctx.add_journal(entry)
    ctx.documents.append(document)
    uow.publish(
        InvoiceGenerated(
            message_id=ports.ids.derive("invoice-generated", document.id),
            occurred_at=ports.clock.now(),
            correlation_id=correlation_for_project(document.project_id),
            invoice_id=document.id,
            project_id=document.project_id,
            period=document.period,
            currency=document.currency,
            total=document.total.amount,
        )
    )


def revisit_proposals(uow: Any, ports: Ports, invoice_id: str, note: Invoice) -> None:
    """Withdraw the open proposals on the invoice; a withdrawn held change to billed time
    applies now if the note released its entry, else it is proposed again."""
    for proposal in withdraw_open_proposals(uow, invoice_id, note.id):
        change = proposal.doc.get("entry_update")
        if not change:
            continue
        after = decode(TimeEntry, orjson.loads(change))
        stored = uow.time_entries.get(after.id)
        if stored is None:
            continue
        if not uow.invoices.billed("time_entry", [after.id]):
            uow.time_entries.apply_held_change(after)
        else:
            _propose(uow, ports, stored.entry, change, f"{proposal.id}|{note.id}", note.issue_date)


def decide_proposal(
    uow: Any,
    ports: Ports,
    proposal_id: str,
    *,
    approve: bool,
    by: str,
    reason: str,
    issue_date: date | None = None,
) -> None:
    """Approve or reject an open proposal. Approving a credit-and-rebill re-checks it against the
    invoice's current documents, then issues both documents as proposed (dated ``issue_date``
    when given: the business date of the approval); approving a write-down writes the held
    hours off for good."""
    [proposal] = [p for p in uow.finance.proposals() if p.id == proposal_id] or [None]
    if proposal is None or proposal.state != "open":
        raise ValidationError("proposal", f"{proposal_id} is not an open proposal")
    if proposal.kind == "write_down" and not approve:
        raise ValidationError(
            "proposal", "held cap overflow cannot be billed: a write-down can only be approved"
        )
    if not approve or proposal.kind != "credit_and_rebill":
        uow.finance.decide(proposal_id, "approved" if approve else "rejected", by, reason)
        return
    note: Invoice = _dated(decode(Invoice, proposal.doc["credit_note"]), issue_date)
    rebill = (
        _dated(decode(Invoice, proposal.doc["rebill"]), issue_date) if proposal.doc.get("rebill") else None
    )
    ctx = context_for(uow, note)
    recheck(uow, ctx.ledger(), proposal_id, note, *([rebill] if rebill else []))
    uow.finance.decide(proposal_id, "approved", by, reason)
    book_document(uow, ports, ctx, note)
    if proposal.doc.get("entry_update"):  # the held change to billed time applies now
        uow.time_entries.apply_held_change(decode(TimeEntry, orjson.loads(proposal.doc["entry_update"])))
    if rebill is not None:
        book_document(uow, ports, ctx, rebill)
    revisit_proposals(uow, ports, note.credits_invoice_id or "", note)


def _dated(document: Invoice, day: date | None) -> Invoice:
    """The document issued on ``day`` (its payment terms kept), or as it is when no day is set."""
    if day is None or day == document.issue_date:
        return document
    due = document.due_date and day + (document.due_date - document.issue_date)
    period = (
        period_of(day) if document.kind == "credit_note" else document.period
    )  # a note's period is its date's
    return replace(document, issue_date=day, due_date=due, period=period)


def reprice_amended_contract(events: list[ContractAmended], uow: Any, ports: Ports) -> None:
    """Re-price unbilled time from the amendment's date; propose credit-and-rebill for billed time."""
    for event in events:
        versions = dict(uow.objects.history("contract", event.contract_id))
        if event.version not in versions or event.version - 1 not in versions:
            continue
        old = decode(Contract, orjson.loads(versions[event.version - 1]))
        new = decode(Contract, orjson.loads(versions[event.version]))
        if old.rate_card == new.rate_card:
            continue  # amended, but not its prices
        try:
            _reprice(uow, event, old, new)
        except DomainError as exc:
            raise TerminalError(f"amendment of {new.id}: {exc}", category="validation") from exc


def _reprice(uow: Any, event: ContractAmended, old: Contract, new: Contract) -> None:
    projects = [p for p in uow.objects.all("project") if p.contract_id == new.id]
    if not projects:
        return
    ctx = BillingContext(uow, projects[0], new)
    entries = [e for p in projects for e in uow.time_entries.approved_for_project(p.id) if e.billable]
    roles = {r.id: r.role for r in uow.objects.all("resource")}
    result = reprice_for_amendment(
        old_contract=old,
        new_contract=new,
        entries=entries,
        ledger=ctx.ledger(),
        issue_date=event.occurred_at.date(),
        proposal_prefix=f"AMD-{new.id}-{event.version}",
        roles=roles,
        tax_code=ctx.tax_code,
        rounding=ctx.rounding,
    )
    for item in result.unbilled:
        stored = uow.time_entries.get(item.entry_id)
        if stored is not None and stored.billing_state == "priced":
            e = stored.entry
            role = e.role or roles[e.resource_id]
            uow.time_entries.set_priced(
                e.id,
                PricedEntry(e.id, e.resource_id, role, e.work_date, e.hours, item.new_rate, item.new_version),
            )
    for proposal in result.proposals:
        if not uow.finance.count([proposal.id]):
            _store_proposal(uow, proposal, new.id)


def _store_proposal(uow: Any, proposal: Any, contract_id: str, entry_update: str | None = None) -> None:
    uow.finance.add_proposal(
        id=proposal.id,
        kind="credit_and_rebill",
        contract_id=contract_id,
        project_id=proposal.credit_note.project_id,
        period=proposal.credit_note.period,
        amount=proposal.impact_net.amount,
        currency=proposal.impact_net.currency,
        doc={
            "invoice_id": proposal.invoice_id,
            "reason": proposal.reason,
            "credit_note": encode(proposal.credit_note),
            "rebill": encode(proposal.rebill) if proposal.rebill else None,
            "impact_net": str(proposal.impact_net.amount),
            "impact_total": str(proposal.impact_total.amount),
            "entry_update": entry_update,
        },
    )


def propose_adjustment(events: list[BilledTimeChanged], uow: Any, ports: Ports) -> None:
    """A change to billed time becomes a credit-and-rebill proposal that carries the change."""
    for event in events:
        stored = uow.time_entries.get(event.entry_id)
        if stored is not None:
            day = ports.business_date or event.occurred_at.date()
            _propose(uow, ports, stored.entry, event.entry, event.message_id, day)


def _propose(uow: Any, ports: Ports, before: TimeEntry, change: str, key: str, day: date) -> None:
    """Propose crediting and rebilling the changed entry alone, carrying its change."""
    after = decode(TimeEntry, orjson.loads(change))
    project = uow.objects.get("project", after.project_id)
    contract = uow.objects.get("contract", project.contract_id) if project else None
    if contract is None:
        raise TerminalError(f"no contract for the project of {after.id}", category="missing_reference")
    ctx = BillingContext(uow, project, contract)
    ledger = ctx.ledger()
    reason = guard_billed_edit(before, after, ledger)
    if reason is None:
        return
    line_id = ledger.line_billing(SourceRef(type="time_entry", id=after.id))
    if line_id is None:  # guard_billed_edit found it billed, so this cannot happen
        return
    invoice, _ = ledger.line(line_id)
    others = {e.id: e for e in uow.time_entries.approved_for_project(project.id)}
    others[after.id] = after
    proposal_id = f"ADJ-{after.id}-{ports.ids.derive(key)[:8]}"
    if uow.finance.count([proposal_id]):
        return
    try:
        proposal = credit_and_rebill(
            proposal_id=proposal_id,
            invoice=invoice,
            line_ids=[line_id],
            entry_ids=[after.id],
            contract=contract,
            entries=list(others.values()),
            ledger=ledger,
            issue_date=day,
            reason=reason,
            roles={r.id: r.role for r in uow.objects.all("resource")},
            tax_code=ctx.tax_code,
            rounding=ctx.rounding,
        )
    except DomainError as exc:
        raise TerminalError(f"adjustment for {after.id}: {exc}", category="validation") from exc
    _store_proposal(uow, proposal, contract.id, entry_update=change)


def handlers() -> list[Handler]:
    return [
        Handler("contract-amendment.reprice", ContractAmended, handle=reprice_amended_contract),
        Handler("billing.adjust-billed-time", BilledTimeChanged, handle=propose_adjustment),
    ]
