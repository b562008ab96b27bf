"""Read back and compare: what an ERP holds for a posting, against the hub's own figures.

After a posting is confirmed, the connector reads the ERP's record (NetSuite with
``expandSubResources=true``; Odoo ``amount_untaxed``/``amount_tax``/``amount_total``; Tryton
its invoice) and compares currency, untaxed amount, tax, total and line count with the hub's
invoice or journal entry. Any difference raises a :class:`TerminalError` (category
``read_back``) whose message holds both sets of figures, so the delivery becomes an
exception a person looks at: a posting the ERP changed (rounded quantities, another
currency, a missing tax, doubled lines) is never taken as done silently.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from handoffs.domain.billing import Invoice, JournalEntry
from handoffs.engine.errors import TerminalError

__all__ = ["Figures", "check_read_back", "invoice_figures", "journal_figures"]


@dataclass(frozen=True, slots=True)
class Figures:
    """A posting's figures; None where a side does not hold one (it is then not compared)."""

    currency: str | None = None
    untaxed: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    lines: int | None = None

    def text(self) -> str:
        return ", ".join(
            f"{f.name} {getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name) is not None
        )


def invoice_figures(invoice: Invoice) -> Figures:
    return Figures(
        invoice.currency,
        invoice.subtotal.amount,
        invoice.tax.amount,
        invoice.total.amount,
        len(invoice.lines),
    )


def journal_figures(entry: JournalEntry) -> Figures:
    """A journal's currency, total debits (as ``total``) and line count."""
    debits = sum((line.debit.amount for line in entry.lines), Decimal(0))
    return Figures(entry.currency, None, None, debits, len(entry.lines))


def check_read_back(system: str, document: str, document_id: str, hub: Figures, held: Figures) -> None:
    """Raise when the ERP's figures differ from the hub's in anything both hold."""
    differ = [
        f.name
        for f in fields(Figures)
        if getattr(hub, f.name) is not None
        and getattr(held, f.name) is not None
        and getattr(hub, f.name) != getattr(held, f.name)
    ]
    if differ:
        raise TerminalError(
            f"{system} holds {document} {document_id} with other figures than the hub "
            f"({', '.join(differ)} differ): hub {hub.text()}; {system} {held.text()}",
            category="read_back",
        )
