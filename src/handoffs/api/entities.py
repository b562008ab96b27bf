"""Which legal entity an object belongs to, so a scoped client never learns of another's.

Reference data that no legal entity owns (currencies, FX rates) is ``GLOBAL``: every
client may read it, and only clients scoped to all entities may write it.
"""

from __future__ import annotations

from typing import Any, Final

from handoffs.api.context import Principal
from handoffs.api.problems import NotFound
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["GLOBAL", "entity_of", "project_entity", "readable", "require_visible", "writable"]

GLOBAL: Final = "*global*"
_BY_PROJECT = ("resource_request", "assignment", "time_entry", "expense")


def project_entity(uow: SqlUnitOfWork, project_id: str | None) -> str | None:
    if not project_id:
        return None
    project = uow.objects.get("project", project_id)
    return None if project is None else str(project.legal_entity_id)


def entity_of(uow: SqlUnitOfWork, type_: str, obj: Any) -> str | None:
    """The owning legal entity's id, ``GLOBAL``, or None when it cannot be known yet."""
    if type_ == "legal_entity":
        return str(obj.id)
    if type_ in ("currency", "fx_rate"):
        return GLOBAL
    if type_ in _BY_PROJECT:
        return project_entity(uow, obj.project_id)
    if type_ == "payment":
        invoice = uow.invoices.get(obj.invoice_id) or uow.objects.get("invoice", obj.invoice_id)
        if invoice is not None:
            return str(invoice.legal_entity_id)
        customer = uow.objects.get("customer", obj.customer_id)
        return None if customer is None else str(customer.legal_entity_id)
    entity = getattr(obj, "legal_entity_id", None)
    return None if entity is None else str(entity)


def readable(principal: Principal, entity: str | None) -> bool:
    return entity == GLOBAL or principal.sees(entity)


def writable(principal: Principal, entity: str | None) -> bool:
    return principal.entities is None or (entity != GLOBAL and principal.sees(entity))


def require_visible(principal: Principal, entity: str | None, what: str) -> None:
    """404 (never 403) when the caller may not see it: the answer must not reveal it exists."""
    if not readable(principal, entity):
        raise NotFound(f"{what} was not found")
