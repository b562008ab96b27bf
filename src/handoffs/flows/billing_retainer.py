"""A contract's retainer in its billing run: the advance when due, and its draw-down."""

from __future__ import annotations

from datetime import date

from handoffs.domain.billing import Invoice
from handoffs.domain.pricing import assemble_invoice, period_bounds
from handoffs.domain.retainers import retainer_invoiced, retainer_lines
from handoffs.flows.billing_context import BillingContext

__all__ = ["retainer_due", "with_retainer"]


def retainer_due(ctx: BillingContext, last: date) -> bool:
    """Whether the retainer is due by ``last`` and not invoiced yet."""
    retainer = ctx.contract.retainer
    return (
        retainer is not None
        and retainer.invoice_on <= last
        and not retainer_invoiced(ctx.documents, ctx.contract)
    )


def with_retainer(
    ctx: BillingContext, invoice: Invoice | None, invoice_id: str, period: str, issue_date: date | None
) -> Invoice | None:
    """The invoice with the retainer's advance (when due) and its draw-down."""
    billed = list(invoice.lines) if invoice else []
    extra = retainer_lines(
        invoice_id=invoice_id,
        contract=ctx.contract,
        period_end=period_bounds(period)[1],
        billed=billed,
        documents=ctx.documents,
        tax_code=ctx.tax_code,
        rounding=ctx.rounding,
    )
    if not extra:
        return invoice
    return assemble_invoice(
        invoice_id=invoice_id,
        contract=ctx.contract,
        project_id=ctx.project.id,
        period=period,
        lines=[*billed, *extra],
        issue_date=issue_date,
    )
