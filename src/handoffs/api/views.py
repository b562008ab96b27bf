"""Experience read models: store rows mapped to response bodies, filtered to what the caller sees."""

from __future__ import annotations

from decimal import Decimal

from handoffs.api.context import Principal
from handoffs.api.entities import entity_of, project_entity, readable
from handoffs.api.problems import NotFound
from handoffs.api.schemas import (
    ClientInvoices,
    InvoiceStatus,
    Kpis,
    Lineage,
    LineageDelivery,
    LineageSource,
    Timesheet,
    TimesheetEntry,
)
from handoffs.domain.catalog import OBJECT_TYPES
from handoffs.domain.work import TimeEntry
from handoffs.store.repositories.read_models import ReadModels
from handoffs.store.serde import from_doc
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["client_invoices", "kpis", "lineage", "timesheet"]


def timesheet(uow: SqlUnitOfWork, principal: Principal, resource_id: str, period: str | None) -> Timesheet:
    rows = ReadModels(uow.connection).timesheet(resource_id, period)
    visible = {p: principal.sees(project_entity(uow, p)) for p in {r.project_id for r in rows}}
    entries = [r for r in rows if visible[r.project_id]]
    by_status: dict[str, Decimal] = {}
    for r in entries:
        by_status[r.status] = by_status.get(r.status, Decimal(0)) + r.hours
    return Timesheet(
        resource_id=resource_id,
        period=period,
        hours_by_status={k: str(v) for k, v in sorted(by_status.items())},
        entries=[
            TimesheetEntry(
                id=r.id,
                project_id=r.project_id,
                work_date=r.work_date,
                hours=str(r.hours),
                status=r.status,
                billing_state=r.billing_state,
            )
            for r in entries
        ],
    )


def client_invoices(uow: SqlUnitOfWork, principal: Principal, customer_id: str) -> ClientInvoices:
    reads = ReadModels(uow.connection)
    return ClientInvoices(
        customer_id=customer_id,
        invoices=[
            InvoiceStatus(
                id=r.id,
                kind=r.kind,
                project_id=r.project_id,
                period=r.period,
                currency=r.currency,
                total=str(r.total),
                status=r.status,
                issue_date=r.issue_date,
                erp_ids=reads.external_ids("invoice", r.id),
            )
            for r in reads.customer_invoices(customer_id)
            if principal.sees(r.legal_entity_id)
        ],
    )


def kpis(uow: SqlUnitOfWork, principal: Principal) -> Kpis:
    k = ReadModels(uow.connection).kpis(principal.entities)
    return Kpis(
        approved_hours=str(k["approved_hours"]),
        billed_hours=str(k["billed_hours"]),
        unbilled_approved_hours=str(k["unbilled_approved_hours"]),
        invoices=k["invoices"],
        invoiced={c: str(v) for c, v in sorted(k["invoiced"].items())},
        open_exceptions=k["open_exceptions"],
    )


def _source(
    uow: SqlUnitOfWork, reads: ReadModels, type_: str, id_: str, released_by: str | None
) -> LineageSource:
    stored = reads.stored(type_, id_)
    entry = from_doc(TimeEntry, stored.doc) if stored is not None and type_ == "time_entry" else None
    return LineageSource(
        type=type_,
        id=id_,
        released_by=released_by,
        source_system=None if stored is None else stored.source_system,
        source_version=None if stored is None else stored.source_version,
        external_ids=reads.external_ids(type_, id_),
        status=None if entry is None else entry.status,
        approved_by=None if entry is None else entry.approved_by,
        approved_at=None if entry is None else entry.approved_at,
        hours=None if entry is None else str(entry.hours),
    )


def _visible(uow: SqlUnitOfWork, reads: ReadModels, principal: Principal, type_: str, id_: str) -> bool:
    """Whether the caller may see a billed source (a schedule item is part of the invoice's contract)."""
    if principal.entities is None or type_ in ("installment", "milestone"):
        return True
    if type_ == "invoice_line":
        type_, id_ = "invoice", uow.invoices.invoice_of_line(id_) or ""
    stored = reads.stored(type_, id_) if type_ in OBJECT_TYPES else None
    if stored is None:
        return False
    return readable(principal, entity_of(uow, type_, from_doc(OBJECT_TYPES[type_], stored.doc)))


def lineage(uow: SqlUnitOfWork, principal: Principal, invoice_id: str, line_id: str) -> Lineage:
    """One line's lineage; sources the caller may not see are left out, never named."""
    reads = ReadModels(uow.connection)
    line = reads.invoice_line(invoice_id, line_id)
    if line is None:
        raise NotFound(f"line {line_id} of invoice {invoice_id} was not found")
    return Lineage(
        invoice_id=invoice_id,
        line_id=line_id,
        line_no=line.line_no,
        kind=line.kind,
        quantity=str(line.quantity),
        unit_price=str(line.unit_price),
        amount=str(line.amount),
        currency=line.currency,
        role=line.role,
        rate_card_version=line.rate_card_version,
        sources=[
            _source(uow, reads, s.source_type, s.source_id, s.released_by)
            for s in reads.line_sources(line_id)
            if _visible(uow, reads, principal, s.source_type, s.source_id)
        ],
        deliveries=[
            LineageDelivery(system=d.system, status=d.status, attempts=d.attempts, external_id=d.external_id)
            for d in reads.deliveries_of("invoice", invoice_id)
        ],
        erp_ids=reads.external_ids("invoice", invoice_id),
    )
