"""Time-to-invoice: price approved time, invoice each project and period, post to the ERP.

    TimeEntryApproved --price--> (entry priced) --> GenerateInvoice(project, period) once the
                                 period has ended (or when ``handoffs bill`` closes it)
    GenerateInvoice --invoice--> billing run: revenue, Invoice listing its sources, journals
                                 --> InvoiceGenerated
    InvoiceGenerated --deliver--> one Delivery per ERP --> PostInvoice(system)
    PostInvoice --post (outbound, idempotency key)--> InvoicePosted

Every id a handler creates is derived from its cause, so a replay derives the same ids and
changes nothing. An entry is billed once: its state moves priced -> billed in the same
transaction that stores the invoice, and the store refuses a second live billing link.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from handoffs.domain.contracts import Contract
from handoffs.domain.errors import DomainError
from handoffs.domain.messages import (
    GenerateInvoice,
    InvoiceDeliveryFailed,
    InvoiceGenerated,
    InvoicePosted,
    PostInvoice,
    TimeEntryApproved,
)
from handoffs.domain.pricing import PricedEntry, period_bounds, price_entry
from handoffs.domain.work import Project, TimeEntry, check_entry_in_schedule
from handoffs.engine.errors import TerminalError, TransientError
from handoffs.engine.registry import Handler
from handoffs.flows.billing_gate import hold_if_not_ready
from handoffs.flows.billing_run import run_billing
from handoffs.flows.ports import ExternalRef, Ports, UnitOfWork, business_today, erp_targets
from handoffs.flows.validation import screen_time

__all__ = ["delivery_key", "handlers"]


def delivery_key(system: str, invoice_id: str) -> str:
    return f"{system}:invoice:{invoice_id}"


def price_approved_time(events: list[TimeEntryApproved], uow: UnitOfWork, ports: Ports) -> None:
    """Price each newly approved entry; for a period that has ended, ask for its billing run.

    Time of a period still running waits for the period's close (``handoffs bill``), so a
    project gets one invoice per period rather than one per approval batch.
    """
    today = business_today(ports)
    due: dict[tuple[str, str], TimeEntryApproved] = {}
    stored = uow.time_entries.get_many([e.entry_id for e in events])  # one query for the batch
    _prime(uow, [s.entry for s in stored.values()])
    priced: list[PricedEntry] = []
    for event in events:
        result = _price(event, uow, stored.get(event.entry_id), ports)
        if result is None:
            continue
        priced.append(result)
        if period_bounds(event.period)[1] < today:
            due.setdefault((event.project_id, event.period), event)
    uow.time_entries.set_priced_many(priced)  # one statement for the batch
    for (project_id, period), cause in sorted(due.items()):
        uow.publish(
            GenerateInvoice(
                message_id=ports.ids.derive("generate-invoice", cause.message_id, project_id, period),
                occurred_at=ports.clock.now(),
                correlation_id=cause.correlation_id,
                project_id=project_id,
                period=period,
            )
        )


def _prime(uow: UnitOfWork, entries: list[TimeEntry]) -> None:
    """Read the batch's projects, contracts, assignments and resources in one query each."""
    objects, project_ids = uow.objects, {e.project_id for e in entries}
    objects.prime("project", project_ids)
    objects.prime("assignment", {e.assignment_id for e in entries if e.assignment_id})
    objects.prime("resource", {e.resource_id for e in entries})
    projects = [objects.get("project", p) for p in project_ids]
    objects.prime("contract", {p.contract_id for p in projects if p is not None and p.contract_id})


def _price(
    event: TimeEntryApproved, uow: UnitOfWork, stored: Any, ports: Ports | None = None
) -> PricedEntry | None:
    """The entry priced, or None when there is nothing to price (already done, not billable...)."""
    if stored is None:
        raise TerminalError(f"time entry {event.entry_id} is not in the store", category="missing_reference")
    entry: TimeEntry = stored.entry
    if stored.billing_state != "unpriced" or entry.status != "approved":
        return None  # already priced or billed, or no longer approved: nothing to do
    project: Project | None = uow.objects.get("project", entry.project_id)
    if project is None:
        raise TransientError(f"project {entry.project_id} has not arrived yet", category="missing_reference")
    held = screen_time(entry, stored.version, project, uow, ports) if ports is not None else None
    if held is not None:  # a policy rule kept it out of billing (a rejection is raised as an exception)
        uow.time_entries.set_state([entry.id], held)
        return None
    if not entry.billable or not project.billable:
        uow.time_entries.set_state([entry.id], "not_billable")
        return None
    contract = _contract(uow, project)
    assignment = None
    if entry.assignment_id:
        assignment = uow.objects.get("assignment", entry.assignment_id)
        if assignment is None:
            raise TransientError(
                f"assignment {entry.assignment_id} has not arrived yet", category="missing_reference"
            )
    try:
        check_entry_in_schedule(entry, project, assignment)
        if contract.billing_model != "time_and_materials":
            uow.time_entries.set_state([entry.id], "not_hourly")  # billed by fee or milestone
            return None
        role = entry.role or (assignment.role if assignment else None) or _resource_role(uow, entry)
        return price_entry(entry, contract, role)
    except DomainError as exc:
        raise TerminalError(f"time entry {entry.id}: {exc}", category="validation") from exc


def _contract(uow: UnitOfWork, project: Project) -> Contract:
    contract: Contract | None = uow.objects.get("contract", project.contract_id or "")
    if contract is None:
        raise TransientError(
            f"contract {project.contract_id} has not arrived yet", category="missing_reference"
        )
    return contract


def _resource_role(uow: UnitOfWork, entry: TimeEntry) -> str:
    resource = uow.objects.get("resource", entry.resource_id)
    if resource is None:
        raise TransientError(
            f"resource {entry.resource_id} has not arrived yet", category="missing_reference"
        )
    return str(resource.role)


def generate_invoices(commands: list[GenerateInvoice], uow: UnitOfWork, ports: Ports) -> None:
    """Run billing for the project and period: revenue, invoice (if anything is due), journals.

    Approvals priced in many batches ask for the same run many times: it runs once per batch.
    """
    unique: dict[tuple[str, str, object], GenerateInvoice] = {}
    for cmd in commands:
        unique.setdefault((cmd.project_id, cmd.period, cmd.issue_date), cmd)
    for cmd in unique.values():
        project: Project | None = uow.objects.get("project", cmd.project_id)
        if project is None:
            raise TerminalError(f"project {cmd.project_id} is not in the store", category="missing_reference")
        if not project.billable or hold_if_not_ready(uow, ports, project, cmd.period) is not None:
            continue
        try:
            invoice = run_billing(uow, project, _contract(uow, project), cmd.period, cmd.issue_date)
        except DomainError as exc:
            raise TerminalError(
                f"billing {cmd.project_id} {cmd.period}: {exc}", category="validation"
            ) from exc
        if invoice is None:
            continue
        uow.publish(
            InvoiceGenerated(
                message_id=ports.ids.derive("invoice-generated", invoice.id),
                occurred_at=ports.clock.now(),
                correlation_id=cmd.correlation_id,
                invoice_id=invoice.id,
                project_id=invoice.project_id,
                period=invoice.period,
                currency=invoice.currency,
                total=invoice.total.amount,
            )
        )


def request_deliveries(events: list[InvoiceGenerated], uow: UnitOfWork, ports: Ports) -> None:
    """One delivery per ERP and invoice, keyed by an idempotency key that never changes."""
    for event in events:
        entity = partial(_legal_entity, uow, event.project_id)
        for system in erp_targets(ports, "invoice", entity, uow=uow, period=event.period):
            key = delivery_key(system, event.invoice_id)
            if uow.deliveries.ensure(key, system, "post_invoice", "invoice", event.invoice_id):
                uow.publish(
                    PostInvoice(
                        message_id=ports.ids.derive("post-invoice", key),
                        occurred_at=ports.clock.now(),
                        correlation_id=event.correlation_id,
                        invoice_id=event.invoice_id,
                        system=system,
                    )
                )


def _legal_entity(uow: UnitOfWork, project_id: str) -> str | None:
    project: Project | None = uow.objects.get("project", project_id)
    return project.legal_entity_id if project is not None else None


def call_post_invoice(
    cmd: PostInvoice, uow_factory: Callable[[], UnitOfWork], ports: Ports
) -> ExternalRef | None:
    """Send the invoice with its idempotency key (outside any transaction)."""
    key = delivery_key(cmd.system, cmd.invoice_id)
    with uow_factory() as uow:  # type: ignore[attr-defined]
        delivery = uow.deliveries.get(key)
        invoice = uow.invoices.get(cmd.invoice_id)
    if delivery is None or invoice is None:
        raise TerminalError(f"delivery {key} or its invoice is missing", category="missing_reference")
    if delivery.status == "confirmed":
        return None
    erp = ports.erps.get(cmd.system)
    if erp is None:
        raise TerminalError(f"no ERP connector is configured as {cmd.system!r}", category="configuration")
    return ports.guard.call(cmd.system, lambda: erp.post_invoice(invoice, key))


def record_post_invoice(cmd: PostInvoice, ref: ExternalRef | None, uow: UnitOfWork, ports: Ports) -> None:
    if ref is None:
        return
    key = delivery_key(cmd.system, cmd.invoice_id)
    uow.deliveries.confirm(key, ref.external_id)
    uow.xrefs.link("invoice", cmd.invoice_id, cmd.system, ref.external_id)
    uow.invoices.set_status(cmd.invoice_id, "posted")
    uow.publish(
        InvoicePosted(
            message_id=ports.ids.derive("invoice-posted", key),
            occurred_at=ports.clock.now(),
            correlation_id=cmd.correlation_id,
            invoice_id=cmd.invoice_id,
            system=cmd.system,
            external_id=ref.external_id,
        )
    )


def post_invoice_dead(cmd: PostInvoice, error: str, uow: UnitOfWork, ports: Ports) -> None:
    key = delivery_key(cmd.system, cmd.invoice_id)
    uow.deliveries.failed_attempt(key, error, final=True)
    uow.invoices.set_status(cmd.invoice_id, "delivery_failed")
    uow.publish(
        InvoiceDeliveryFailed(
            message_id=ports.ids.derive("invoice-delivery-failed", key, error),
            occurred_at=ports.clock.now(),
            correlation_id=cmd.correlation_id,
            invoice_id=cmd.invoice_id,
            system=cmd.system,
            reason=error,
        )
    )


def handlers() -> list[Handler]:
    return [
        Handler("time-to-invoice.price", TimeEntryApproved, handle=price_approved_time),
        Handler("time-to-invoice.invoice", GenerateInvoice, handle=generate_invoices),
        Handler("time-to-invoice.deliver", InvoiceGenerated, handle=request_deliveries),
        Handler(
            "time-to-invoice.post",
            PostInvoice,
            call=call_post_invoice,
            record=record_post_invoice,
            on_dead=post_invoice_dead,
        ),
    ]
