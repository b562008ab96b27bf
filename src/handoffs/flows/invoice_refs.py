"""Whether an imported invoice names only records of its own project and legal entity.

An invoice issued before the hub took over arrives with the sources each line bills. Storing
it marks those sources billed (a credit note releases them), so every one must be a record
the hub knows, of the invoice's project, and the project, customer and contract must be of
the invoice's legal entity. Otherwise one entity's import would bill, or release, another
entity's work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoffs.domain.billing import Invoice

__all__ = ["foreign_references"]

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
