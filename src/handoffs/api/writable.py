"""What an API client may write: records of its own legal entities that name only their own.

A record is refused (404, never 403) when its legal entity, or that of the object it would
replace, is not the caller's, or when it names a record that is missing or another entity's:
one answer for both, so nobody learns which ids exist.
"""

from __future__ import annotations

from typing import Any

from handoffs.api.context import Principal
from handoffs.api.entities import entity_of, writable
from handoffs.api.problems import NotFound
from handoffs.domain.catalog import OBJECT_TYPES, decode_record
from handoffs.domain.errors import DomainError
from handoffs.flows.invoice_import import foreign_references
from handoffs.store.repositories.read_models import ReadModels
from handoffs.store.serde import from_doc
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["check_writable"]


def check_writable(
    uow: SqlUnitOfWork, principal: Principal, records: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[tuple[str, str], str | None]]:
    """404 for any record the caller may not write.

    Returns the stored versions (for the audit) and each record's legal entity.
    """
    batch_projects = {r.get("id"): r.get("legal_entity_id") for r in records if r.get("type") == "project"}
    reads = ReadModels(uow.connection)
    before: dict[str, Any] = {}
    entities: dict[tuple[str, str], str | None] = {}
    decoded = []
    for data in records:
        try:
            decoded.append(decode_record(data))
        except (DomainError, TypeError, ValueError, OverflowError):
            continue  # the ingest path turns it into a validation exception, as `handoffs load` does
    pending = {(r.type, r.obj.id): r.obj for r in decoded}
    for record in decoded:
        entity = entity_of(uow, record.type, record.obj)
        if entity is None and record.type in ("time_entry", "expense", "assignment", "resource_request"):
            entity = batch_projects.get(record.obj.project_id)
        stored = reads.stored(record.type, record.obj.id)
        label = f"{record.type} {record.obj.id}"
        old = (
            None
            if stored is None
            else entity_of(uow, record.type, from_doc(OBJECT_TYPES[record.type], stored.doc))
        )
        if (
            not writable(principal, entity)
            or (stored is not None and not writable(principal, old))
            or _names_foreign(uow, record, pending)
        ):  # one answer whether a referenced record is missing or another entity's
            raise NotFound(f"{label}: its legal entity, project or a record it names was not found")
        before[f"{record.type}:{record.obj.id}"] = None if stored is None else stored.version
        entities[(record.type, record.obj.id)] = entity
    return before, entities


def _names_foreign(uow: SqlUnitOfWork, record: Any, pending: dict[tuple[str, str], Any]) -> bool:
    """Whether an invoice, or a payment, names a record that is missing or not of its own."""
    if record.type == "invoice":
        return bool(foreign_references(uow, record.obj, pending))
    if record.type != "payment":
        return False
    paid, by = record.obj.invoice_id, record.obj.customer_id
    invoice = pending.get(("invoice", paid)) or uow.invoices.get(paid) or uow.objects.get("invoice", paid)
    customer = pending.get(("customer", by)) or uow.objects.get("customer", by)
    return (
        invoice is None
        or customer is None
        or invoice.customer_id != by
        or invoice.legal_entity_id != customer.legal_entity_id
    )
