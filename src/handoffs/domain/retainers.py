"""Retainers: an amount invoiced in advance that later invoices of the contract draw down.

Rules:

* The retainer is invoiced once, as a ``retainer`` line (with tax), on the contract's first
  invoice of a period ending on or after its ``invoice_on`` date. Until revenue is
  recognised against it, it sits in contract liability (deferred revenue): the invoice
  journal credits what it bills beyond the contract asset to deferred revenue, and each
  revenue journal releases contract liability first.
* Every later invoice applies the balance left to what it bills (time and expenses), as a
  negative ``retainer_applied`` line with the tax it reverses: the invoice shows the time
  billed, the retainer applied and, as its total, the amount due. When the whole of an
  invoice's billing is covered, the tax applied is exactly the tax of those lines, so
  nothing is due.
* balance = retainer lines invoiced + retainer applied lines (negative), credit notes
  counted with their sign. Crediting the retainer invoice refunds what is left of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from handoffs.domain.billing import Invoice, InvoiceLine, LineKind, SourceRef
from handoffs.domain.contracts import Contract
from handoffs.domain.money import Money
from handoffs.domain.reference import TaxCode
from handoffs.domain.tax import tax_on

__all__ = ["retainer_balance", "retainer_invoiced", "retainer_lines"]

APPLIED_TO = ("time", "expense")


def retainer_balance(documents: Iterable[Invoice], contract: Contract) -> Money:
    """What is left of the contract's retainer to draw down."""
    amounts = [
        line.amount
        for doc in documents
        if doc.contract_id == contract.id
        for line in doc.lines
        if line.kind in ("retainer", "retainer_applied")
    ]
    return Money.sum(amounts, contract.currency)


def retainer_invoiced(documents: Iterable[Invoice], contract: Contract) -> bool:
    return any(
        doc.kind == "invoice"
        and doc.contract_id == contract.id
        and any(ln.kind == "retainer" for ln in doc.lines)
        for doc in documents
    )


def retainer_lines(
    *,
    invoice_id: str,
    contract: Contract,
    period_end: date,
    billed: Sequence[InvoiceLine],
    documents: Sequence[Invoice],
    tax_code: TaxCode | None,
    rounding: str = "half_up",
) -> list[InvoiceLine]:
    """The retainer lines of the next invoice: the advance when due, and the draw-down.

    Args:
        billed: the invoice's other lines (time and expenses are drawn against).
        documents: every invoice and credit note of the contract so far.
        period_end: the last day of the invoice's period.
    """
    retainer = contract.retainer
    if retainer is None:
        return []
    found: list[InvoiceLine] = []
    balance = retainer_balance(documents, contract)
    number = len(billed) + 1
    if retainer.invoice_on <= period_end and not retainer_invoiced(documents, contract):
        amount = retainer.amount.rounded(rounding)
        tax = tax_on(amount, tax_code, rounding)
        source = (SourceRef(type="retainer", id=contract.id),)
        text = f"Retainer of {contract.id}, invoiced in advance"
        found.append(_line(f"{invoice_id}-L{number:04d}", "retainer", text, amount, tax, tax_code, source))
        balance = balance + amount
        number += 1
    drawn = [ln for ln in billed if ln.kind in APPLIED_TO]
    due = Money.sum([ln.amount for ln in drawn], contract.currency)
    applied = min(balance.amount, due.amount)
    if applied <= 0:
        return found
    amount = Money(applied, contract.currency)
    whole = applied == due.amount
    tax = (
        Money.sum([ln.tax for ln in drawn], contract.currency)
        if whole
        else tax_on(amount, tax_code, rounding)
    )
    text = f"Retainer applied (balance before: {balance.amount} {balance.currency})"
    found.append(_line(f"{invoice_id}-L{number:04d}", "retainer_applied", text, -amount, -tax, tax_code))
    return found


def _line(
    line_id: str,
    kind: LineKind,
    text: str,
    amount: Money,
    tax: Money,
    tax_code: TaxCode | None,
    sources: tuple[SourceRef, ...] = (),
) -> InvoiceLine:
    return InvoiceLine(
        id=line_id,
        kind=kind,
        description=text,
        quantity=Decimal(1),
        unit_price=amount,
        amount=amount,
        tax=tax,
        sources=sources,
        tax_code_id=tax_code.id if tax_code else None,
    )
