"""``handoffs credit-note``: credit an invoice in full, a line, some entries, or an amount.

What the note releases may be billed again by the next billing run; the open
credit-and-rebill proposals on the invoice are withdrawn and looked at again
(``operations.revisit_proposals``); a credit of an amount on a time-and-materials contract
gives back the revenue it concedes (``credits.concession``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from handoffs.domain.billing import Invoice
from handoffs.domain.credit_notes import amount_credit_note, credit_note
from handoffs.domain.errors import ValidationError
from handoffs.domain.ledger import AlreadyBilled
from handoffs.domain.money import Money
from handoffs.flows.billing_run import book_revenue
from handoffs.flows.credits import billed_hours, concession, tax_rates
from handoffs.flows.operations import book_document, context_for, revisit_proposals
from handoffs.flows.ports import Ports

__all__ = ["issue_credit_note"]


def issue_credit_note(
    uow: Any,
    ports: Ports,
    invoice_id: str,
    reason: str,
    issue_date: date,
    *,
    entries: list[str] | None = None,
    line: str | None = None,
    amount: Decimal | None = None,
) -> Invoice:
    """Credit an invoice: in full, one line (``line``), some entries (``entries``), or an amount
    of a line (``line`` and ``amount``). What it releases may be billed again by the next run;
    open credit-and-rebill proposals on the invoice are withdrawn and looked at again."""
    invoice = uow.invoices.get(invoice_id)
    if invoice is None or invoice.kind != "invoice":
        raise ValidationError("invoice", f"{invoice_id} is not an issued invoice")
    ctx = context_for(uow, invoice)
    number = sum(1 for d in ctx.documents if d.credits_invoice_id == invoice_id) + 1
    note_id = f"CN-{invoice_id}" if number == 1 else f"CN-{invoice_id}-{number:02d}"
    common: dict[str, Any] = dict(
        credit_note_id=note_id,
        invoice=invoice,
        ledger=ctx.ledger(),
        issue_date=issue_date,
        reason=reason,
        tax_rates=tax_rates(uow),
        rounding=ctx.rounding,
    )
    try:
        if amount is not None:
            if line is None:
                raise ValidationError("line", "credit note rule: a credit of an amount names its line")
            note = amount_credit_note(line_id_=line, amount=Money(amount, invoice.currency), **common)
        else:
            hours = billed_hours(uow, invoice) if entries else {}
            note = credit_note(line_ids=[line] if line else None, sources=entries, hours=hours, **common)
    except AlreadyBilled as exc:
        raise ValidationError("invoice", str(exc)) from None
    event = concession(note, f"REV-{note.id}", ctx.contract.billing_model)
    if event is not None:
        book_revenue(ctx, event)
    book_document(uow, ports, ctx, note)
    revisit_proposals(uow, ports, invoice_id, note)
    return note
