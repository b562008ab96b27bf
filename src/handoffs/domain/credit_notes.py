"""Credit notes: crediting whole invoice lines releases the sources they billed.

Rule: a credit note credits whole lines of one invoice (never part of a line, so hours can
never be half-released). Each credit line negates the credited line's quantity, amount and
tax and lists, as sources, the credited line (type ``invoice_line``) followed by every
source of that line. The billing ledger then treats those sources as unbilled, so a
re-invoice bills them again, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from handoffs.domain.billing import Invoice, InvoiceLine, SourceRef
from handoffs.domain.errors import ValidationError
from handoffs.domain.ledger import AlreadyBilled, BillingLedger
from handoffs.domain.money import Money
from handoffs.domain.periods import period_of
from handoffs.domain.pricing import line_id

__all__ = ["credit_note", "released_sources"]


def _neg(money: Money) -> Money:
    return money if money.is_zero else -money


def credit_note(
    *,
    credit_note_id: str,
    invoice: Invoice,
    ledger: BillingLedger,
    issue_date: date,
    reason: str,
    line_ids: Iterable[str] | None = None,
) -> Invoice:
    """A credit note for whole lines of ``invoice``.

    Args:
        credit_note_id: id of the new credit note (line ids derive from it).
        invoice: the invoice credited (kind ``invoice``).
        ledger: current billing state, to refuse crediting a line twice.
        issue_date: the credit note's date; its period is the period of this date.
        reason: why the lines are credited (kept on every credit line's description).
        line_ids: the lines to credit; all lines when omitted.

    Raises:
        ValidationError: the document is not an invoice, a line is unknown, or no reason.
        AlreadyBilled: a line was credited before.
    """
    if invoice.kind != "invoice":
        raise ValidationError("invoice", f"credit note rule: {invoice.id} is a credit note, not an invoice")
    if not reason.strip():
        raise ValidationError("reason", "credit note rule: a credit note needs a reason")
    by_id = {line.id: line for line in invoice.lines}
    wanted = list(by_id) if line_ids is None else list(dict.fromkeys(line_ids))
    lines: list[InvoiceLine] = []
    for n, lid in enumerate(wanted, start=1):
        if lid not in by_id:
            raise ValidationError(
                "line_ids", f"credit note rule: {lid} is not a line of invoice {invoice.id}"
            )
        if ledger.is_credited(lid):
            raise AlreadyBilled(f"credit note rule: line {lid} has already been credited")
        old = by_id[lid]
        lines.append(
            InvoiceLine(
                id=line_id(credit_note_id, n),
                kind=old.kind,
                description=f"Credit of {old.id} ({old.description}): {reason}",
                quantity=-old.quantity,
                unit_price=old.unit_price,
                amount=_neg(old.amount),
                tax=_neg(old.tax),
                sources=(SourceRef(type="invoice_line", id=old.id), *old.sources),
                role=old.role,
                resource_id=old.resource_id,
                rate_card_version=old.rate_card_version,
                tax_code_id=old.tax_code_id,
                fx_rate=old.fx_rate,
                fx_rate_id=old.fx_rate_id,
            )
        )
    subtotal = Money.sum([line.amount for line in lines], invoice.currency)
    tax = Money.sum([line.tax for line in lines], invoice.currency)
    return Invoice(
        id=credit_note_id,
        kind="credit_note",
        legal_entity_id=invoice.legal_entity_id,
        customer_id=invoice.customer_id,
        contract_id=invoice.contract_id,
        project_id=invoice.project_id,
        period=period_of(issue_date),
        issue_date=issue_date,
        due_date=issue_date,
        currency=invoice.currency,
        lines=tuple(lines),
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        credits_invoice_id=invoice.id,
    )


def released_sources(note: Invoice) -> tuple[SourceRef, ...]:
    """The time entries, expenses, installments and milestones a credit note releases."""
    return tuple(s for line in note.lines for s in line.sources if s.type != "invoice_line")
