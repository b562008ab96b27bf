"""Experience layer: curated read models for portals, timesheet apps and executives."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from handoffs.api.catalog import deprecated
from handoffs.api.deps import Ctx, ExperienceRead
from handoffs.api.entities import require_visible
from handoffs.api.routes import AUTHED, problems
from handoffs.api.schemas import ClientInvoices, Kpis, Lineage, Timesheet
from handoffs.api.views import client_invoices, kpis, lineage, timesheet

__all__ = ["router"]

router = APIRouter(prefix="/v1/experience", tags=["experience"])
Id = Annotated[str, Path(min_length=1, max_length=128)]
PeriodQ = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


@router.get("/consultants/{resource_id}/timesheet", response_model=Timesheet, responses=problems(*AUTHED))
def consultant_timesheet(
    resource_id: Id, ctx: Ctx, principal: ExperienceRead, period: PeriodQ = None
) -> Timesheet:
    """A consultant's entries and hours by approval status, for one period or all."""
    with ctx.app.uow() as uow:
        resource = uow.objects.get("resource", resource_id)
        require_visible(
            principal, None if resource is None else resource.legal_entity_id, f"resource {resource_id}"
        )
        return timesheet(uow, principal, resource_id, period)


@router.get("/clients/{customer_id}/invoices", response_model=ClientInvoices, responses=problems(*AUTHED))
def customer_invoices(customer_id: Id, ctx: Ctx, principal: ExperienceRead) -> ClientInvoices:
    """A client's invoices with their status and ERP ids."""
    with ctx.app.uow() as uow:
        customer = uow.objects.get("customer", customer_id)
        require_visible(
            principal, None if customer is None else customer.legal_entity_id, f"customer {customer_id}"
        )
        return client_invoices(uow, principal, customer_id)


@router.get("/kpis", response_model=Kpis, responses=problems(*AUTHED))
def executive_kpis(ctx: Ctx, principal: ExperienceRead) -> Kpis:
    """Hours approved and billed, invoices and totals, open exceptions (the caller's entities only)."""
    with ctx.app.uow() as uow:
        return kpis(uow, principal)


@router.get(
    "/executive-kpis",
    response_model=Kpis,
    responses=problems(*AUTHED),
    deprecated=True,
    dependencies=[Depends(deprecated("executive-kpis"))],
)
def executive_kpis_v0(ctx: Ctx, principal: ExperienceRead) -> Kpis:
    """Deprecated: use ``/v1/experience/kpis`` (same body). See the Sunset header."""
    return executive_kpis(ctx, principal)


@router.get(
    "/invoices/{invoice_id}/lines/{line_id}/lineage", response_model=Lineage, responses=problems(*AUTHED)
)
def invoice_line_lineage(invoice_id: Id, line_id: Id, ctx: Ctx, principal: ExperienceRead) -> Lineage:
    """What one invoice line bills: entries with source ids and approvals, rate card, deliveries, ERP ids."""
    with ctx.app.uow() as uow:
        invoice = uow.invoices.get(invoice_id)
        require_visible(
            principal, None if invoice is None else invoice.legal_entity_id, f"invoice {invoice_id}"
        )
        return lineage(uow, principal, invoice_id, line_id)
