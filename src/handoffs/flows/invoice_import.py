"""Invoices issued before the hub took over, and whether one names only its own records.

An invoice issued before the hub took over arrives with the sources each line bills. Storing
it marks those sources billed (a credit note releases them), so every one must be a record
the hub knows, of the invoice's project, and the project, customer and contract must be of
the invoice's legal entity. Otherwise one entity's import would bill, or release, another
entity's work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from handoffs.domain.billing import Invoice
from handoffs.domain.catalog import CanonicalRecord
from handoffs.flows.ingest_reports import correlation_for_project, fingerprint, label

if TYPE_CHECKING:
    from handoffs.flows.ingest import LoadReport

__all__ = ["foreign_references", "load_invoices"]

Pending = Mapping[tuple[str, str], Any]  # (type, id) -> a decoded object not stored yet


def _get(uow: Any, pending: Pending, type_: str, id_: str) -> Any:
    if (type_, id_) in pending:
        return pending[(type_, id_)]
    if type_ == "time_entry":
        stored = uow.time_entries.get(id_)
        return None if stored is None else stored.entry
    if type_ == "invoice":
        return uow.invoices.get(id_)
    if type_ == "invoice_line":
        parent = uow.invoices.invoice_of_line(id_)
        return None if parent is None else uow.invoices.get(parent)
    return uow.objects.get(type_, id_)


def foreign_references(uow: Any, invoice: Invoice, pending: Pending | None = None) -> list[str]:
    """``"<type> <id>"`` for each thing the invoice names that is unknown or not its own; [] if sound.

    ``pending`` holds records of the same batch that are checked but not stored yet.
    """
    pending = pending or {}
    entity = invoice.legal_entity_id
    bad = [
        f"{kind} {id_}"
        for kind, id_ in (
            ("project", invoice.project_id),
            ("customer", invoice.customer_id),
            ("contract", invoice.contract_id),
        )
        if getattr(_get(uow, pending, kind, id_), "legal_entity_id", None) != entity
    ]
    contract = _get(uow, pending, "contract", invoice.contract_id)
    schedule = {x.id for x in (*contract.installments, *contract.milestones)} if contract else set()
    refs = [(s.type, s.id) for s in invoice.sources]
    if invoice.credits_invoice_id:
        refs.append(("invoice", invoice.credits_invoice_id))
    for type_, id_ in refs:
        if type_ in ("installment", "milestone"):
            known = id_ in schedule
        else:
            found = _get(uow, pending, type_, id_)
            known = found is not None and getattr(found, "project_id", None) == invoice.project_id
        if not known:
            bad.append(f"{type_} {id_}")
    return bad


def load_invoices(
    uow: Any, source: str, invoices: list[tuple[Any, str, CanonicalRecord]], report: LoadReport
) -> None:
    """Invoices issued before the hub took over: stored with their billing links, never changed.

    The time they bill is marked billed, and recognised by the import (its revenue belongs to
    the books the invoice came from). An invoice naming anything unknown or outside its
    project and legal entity is refused whole, as a validation exception.
    """
    for where, raw, record in invoices:
        invoice: Invoice = record.obj
        report.by_type["invoice"] += 1
        stored = uow.invoices.get(invoice.id)
        if stored == invoice:
            report.outcomes["unchanged"] += 1
            continue
        if stored is not None:
            report.outcomes["locked"] += 1
            _refuse(
                uow,
                (source, where, raw, invoice),
                "was already issued and is never changed",
                "issued invoices are immutable: credit and re-invoice instead",
                "invoice",
            )
            continue
        if foreign := foreign_references(uow, invoice):
            report.outcomes["rejected"] += 1
            _refuse(
                uow,
                (source, where, raw, invoice),
                "names records that are unknown or not of its project and legal entity: "
                + ", ".join(foreign[:10]),
                "an invoice bills only known records of its own project and legal entity",
                "foreign",
            )
            continue
        uow.invoices.add(invoice, correlation_for_project(invoice.project_id))
        uow.invoices.set_status(invoice.id, "imported")
        entries = [s.id for s in invoice.sources if s.type == "time_entry"]
        uow.time_entries.set_state(entries, "billed")
        uow.time_entries.mark_recognised(entries, f"imported:{invoice.id}")
        report.outcomes["inserted"] += 1


def _refuse(uow: Any, sent: tuple[str, Any, str, Invoice], what: str, rule: str, kind: str) -> None:
    """A validation exception for an invoice that is not stored, keeping its raw record."""
    source, where, raw, invoice = sent
    uow.exceptions.add(
        category="validation",
        source=source,
        raw=raw,
        reason=f"{label(where)}: invoice {invoice.id} {what}",
        detail={"line" if isinstance(where, int) else "record": where, "rule": rule},
        object_type="invoice",
        object_id=invoice.id,
        fingerprint=fingerprint(kind, invoice.id, raw),
    )
