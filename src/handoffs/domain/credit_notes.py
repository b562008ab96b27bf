"""Credit notes: crediting invoice lines, or some of their sources, releases what they billed.

Rules (worked in docs/billing-and-revenue.md):

* A credit line lists the credited line (type ``invoice_line``) followed by the sources it
  releases; the billing ledger treats those as unbilled, so a re-invoice bills them again, once.
* Crediting a whole line negates what is left of it. Crediting some entries of a line keeps
  the others billed at their own value (their hours x rate, rounded once, and that amount's
  tax): the credit is the rest, so credits of a line never add up to more or less than it.
* A credit of an amount (a price concession) releases nothing and is at most what is left.
* No source of a line is credited twice, and no line for more than it billed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from handoffs.domain.billing import Invoice, InvoiceLine, SourceRef
from handoffs.domain.errors import ValidationError
from handoffs.domain.ledger import AlreadyBilled, BillingLedger, SourceKey
from handoffs.domain.money import Money
from handoffs.domain.periods import period_of
from handoffs.domain.pricing import line_id

__all__ = ["amount_credit_note", "credit_note", "is_current", "released_sources"]


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
    sources: Iterable[str] | None = None,
    hours: Mapping[str, Decimal] | None = None,
    tax_rates: Mapping[str, Decimal] | None = None,
    rounding: str = "half_up",
) -> Invoice:
    """A credit note for lines of ``invoice``, whole or for some of their sources.

    Args:
        credit_note_id: id of the new credit note (line ids derive from it).
        invoice: the invoice credited (kind ``invoice``).
        ledger: current billing state, to refuse crediting a source or an amount twice.
        issue_date: the credit note's date; its period is the period of this date.
        reason: why the lines are credited (kept on every credit line's description).
        line_ids: lines to credit in full (what is left of them); all lines when neither
            this nor ``sources`` is given.
        sources: ids of time entries, expenses... to credit alone, each on the line billing it.
        hours: hours of the time entries that stay billed on a partly credited line.
        tax_rates: tax code id -> rate, for the tax of what stays billed on such a line.
        rounding: the legal entity's rounding mode.

    Raises:
        ValidationError: not an invoice, an unknown line or source, or no reason.
        AlreadyBilled: a line or source was credited before.
    """
    _check(invoice, reason)
    by_id = {line.id: line for line in invoice.lines}
    wanted: dict[str, set[SourceKey] | None] = {}
    for lid in dict.fromkeys(line_ids or ()):
        if lid not in by_id:
            raise ValidationError(
                "line_ids", f"credit note rule: {lid} is not a line of invoice {invoice.id}"
            )
        wanted[lid] = None
    for sid in dict.fromkeys(sources or ()):
        owners = [ln for ln in invoice.lines if any(ref.id == sid for ref in ln.sources)]
        if not owners:
            raise ValidationError("sources", f"credit note rule: {sid} is not billed on invoice {invoice.id}")
        keys = wanted.setdefault(owners[0].id, set())
        if keys is not None:
            keys |= {(ref.type, ref.id) for ref in owners[0].sources if ref.id == sid}
    if line_ids is None and sources is None:
        wanted = dict.fromkeys(by_id)
    lines: list[InvoiceLine] = []
    for n, (lid, keys) in enumerate(wanted.items(), start=1):
        lines.append(
            _credit_line(
                line_id(credit_note_id, n),
                by_id[lid],
                keys,
                ledger,
                reason,
                (hours or {}, tax_rates or {}),
                rounding,
            )
        )
    return _document(credit_note_id, invoice, issue_date, lines)


def amount_credit_note(
    *,
    credit_note_id: str,
    invoice: Invoice,
    ledger: BillingLedger,
    issue_date: date,
    reason: str,
    line_id_: str,
    amount: Money,
    tax_rates: Mapping[str, Decimal] | None = None,
    rounding: str = "half_up",
) -> Invoice:
    """A credit note for an amount of one line (a price concession): it releases nothing.

    The credited tax is the amount x the line's tax rate, rounded once (the whole line's
    remaining tax when the amount is all that is left of it).

    Raises:
        ValidationError: not an invoice, an unknown line, no reason, or not a positive amount.
        AlreadyBilled: the amount is more than what is left of the line after earlier credits.
    """
    _check(invoice, reason)
    line = next((ln for ln in invoice.lines if ln.id == line_id_), None)
    if line is None:
        raise ValidationError(
            "line_ids", f"credit note rule: {line_id_} is not a line of invoice {invoice.id}"
        )
    if amount.currency != invoice.currency or amount.amount <= 0 or not amount.is_rounded():
        raise ValidationError(
            "amount", f"credit note rule: the amount must be a positive {invoice.currency} amount"
        )
    left, left_tax = ledger.uncredited(line.id)
    if amount > left:
        raise AlreadyBilled(f"credit note rule: {amount} is more than the {left} left of line {line.id}")
    tax = left_tax if amount == left else (amount * _rate(line, tax_rates or {})).rounded(rounding)
    credit = InvoiceLine(
        id=line_id(credit_note_id, 1),
        kind="adjustment",
        description=f"Credit of {amount} on {line.id} ({line.description}): {reason}",
        quantity=Decimal(-1),
        unit_price=amount,
        amount=_neg(amount),
        tax=_neg(tax),
        sources=(SourceRef(type="invoice_line", id=line.id),),
        tax_code_id=line.tax_code_id,
    )
    return _document(credit_note_id, invoice, issue_date, [credit])


def is_current(
    note: Invoice,
    invoice: Invoice,
    ledger: BillingLedger,
    hours: Mapping[str, Decimal] | None = None,
    tax_rates: Mapping[str, Decimal] | None = None,
    rounding: str = "half_up",
) -> bool:
    """Whether a credit note prepared earlier (on a proposal) is what crediting the same
    sources of ``invoice`` gives against the current documents: False when another document
    has credited any of them, or changed what stays billed on their lines since."""
    released = [
        s.id for ln in note.lines if ln.kind != "adjustment" for s in ln.sources if s.type != "invoice_line"
    ]
    if not released:
        return True
    try:
        now = credit_note(
            credit_note_id=note.id,
            invoice=invoice,
            ledger=ledger,
            issue_date=note.issue_date,
            reason="re-check",
            sources=released,
            hours=hours,
            tax_rates=tax_rates,
            rounding=rounding,
        )
    except (AlreadyBilled, ValidationError):
        return False
    figures = sorted((ln.sources, ln.quantity, ln.amount, ln.tax) for ln in now.lines)
    return figures == sorted(
        (ln.sources, ln.quantity, ln.amount, ln.tax) for ln in note.lines if ln.kind != "adjustment"
    )


def _check(invoice: Invoice, reason: str) -> None:
    if invoice.kind != "invoice":
        raise ValidationError("invoice", f"credit note rule: {invoice.id} is a credit note, not an invoice")
    if not reason.strip():
        raise ValidationError("reason", "credit note rule: a credit note needs a reason")


def _rate(line: InvoiceLine, tax_rates: Mapping[str, Decimal]) -> Decimal:
    if line.tax.is_zero:
        return Decimal(0)
    if line.tax_code_id is None or line.tax_code_id not in tax_rates:
        raise ValidationError("tax_rates", f"credit note rule: no tax rate known for line {line.id}")
    return tax_rates[line.tax_code_id]


def _credit_line(
    new_id: str,
    old: InvoiceLine,
    keys: set[SourceKey] | None,
    ledger: BillingLedger,
    reason: str,
    known: tuple[Mapping[str, Decimal], Mapping[str, Decimal]],
    rounding: str,
) -> InvoiceLine:
    """Credit ``keys`` of a line (all that is left of it when None): what stays billed keeps
    its own value (hours x rate, rounded once), and the credit is everything else."""
    hours, tax_rates = known
    done = ledger.credited_sources(old.id)
    if ledger.is_credited(old.id) or (keys and keys & done):
        raise AlreadyBilled(f"credit note rule: line {old.id} has already been credited")
    left, left_tax = ledger.uncredited(old.id)
    remaining = [ref for ref in old.sources if (ref.type, ref.id) not in done]
    staying = [] if keys is None else [ref for ref in remaining if (ref.type, ref.id) not in keys]
    released = [ref for ref in remaining if ref not in staying]
    stay_hours = Decimal(0)
    for ref in staying:
        if ref.id not in hours:
            raise ValidationError(
                "hours", f"credit note rule: hours of {ref.id} are needed to credit part of {old.id}"
            )
        stay_hours += hours[ref.id]
    value = (old.unit_price * stay_hours).rounded(rounding)
    stay_tax = (value * _rate(old, tax_rates)).rounded(rounding) if staying else Money.zero(old.tax.currency)
    credited_qty = sum(
        (-ln.quantity for ln in _credit_lines(ledger, old.id) if ln.kind != "adjustment"), Decimal(0)
    )
    return InvoiceLine(
        id=new_id,
        kind=old.kind,
        description=f"Credit of {old.id} ({old.description}): {reason}",
        quantity=-(old.quantity - credited_qty - stay_hours),
        unit_price=old.unit_price,
        amount=_neg(left - value),
        tax=_neg(left_tax - stay_tax),
        sources=(SourceRef(type="invoice_line", id=old.id), *released),
        role=old.role,
        resource_id=old.resource_id,
        rate_card_version=old.rate_card_version,
        tax_code_id=old.tax_code_id,
        fx_rate=old.fx_rate,
        fx_rate_id=old.fx_rate_id,
    )


def _credit_lines(ledger: BillingLedger, line_id_: str) -> list[InvoiceLine]:
    return [
        ln
        for doc in ledger.documents
        if doc.kind == "credit_note"
        for ln in doc.lines
        if any(ref.type == "invoice_line" and ref.id == line_id_ for ref in ln.sources)
    ]


def _document(credit_note_id: str, invoice: Invoice, issue_date: date, lines: list[InvoiceLine]) -> Invoice:
    if not lines:
        raise ValidationError("lines", f"credit note rule: nothing of {invoice.id} to credit")
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
