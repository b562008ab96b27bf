"""The hub's invoice as Odoo 17 ``account.move`` values, and the figures a read-back compares.

Odoo stores a line's ``quantity`` to the 'Product Unit of Measure' precision and its
``price_unit`` to the 'Product Price' precision, 2 decimals each by default, silently
(``account_move_line.py``); an hour of 11.3333 becomes 11.33 and the total changes. So a
line is sent as it is only when Odoo would compute the hub's amount to the cent from the
rounded values; otherwise it is sent as one unit at the line amount, and its label says
so with the hub's quantity and rate. A credit note is ``out_refund`` with positive lines
(Odoo refuses to post an invoice with a negative total); its figures read back positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from handoffs.connectors.readback import Figures, invoice_figures
from handoffs.domain.billing import Invoice, InvoiceLine

__all__ = ["MoveRefs", "expected_figures", "held_figures", "line_values", "move_values"]

DIGITS = Decimal("0.01")  # Odoo's default 'Product Unit of Measure' and 'Product Price' precision


@dataclass(frozen=True, slots=True)
class MoveRefs:
    """The Odoo ids one invoice refers to (looked up by the connector)."""

    partner: int
    company: int
    currency: int
    product: int
    taxes: dict[str, int]  # the hub's tax code id -> account.tax id
    analytic: int | None = None  # the contract's analytic account


def _kept(value: Decimal) -> bool:
    return value == value.quantize(DIGITS)


def _exact(quantity: Decimal, price: Decimal, amount: Decimal) -> bool:
    """Would Odoo store these and compute ``amount`` from them, to the cent?"""
    computed = (quantity * price).quantize(DIGITS, rounding=ROUND_HALF_UP)
    return _kept(quantity) and _kept(price) and computed == amount


def line_values(line: InvoiceLine, refs: MoveRefs) -> dict[str, Any]:
    quantity, price, amount = abs(line.quantity), abs(line.unit_price.amount), abs(line.amount.amount)
    tax = refs.taxes.get(line.tax_code_id) if line.tax_code_id else None
    values: dict[str, Any] = {
        "product_id": refs.product,
        "tax_ids": [[6, 0, [tax] if tax is not None else []]],
    }
    if refs.analytic is not None:
        values["analytic_distribution"] = {str(refs.analytic): 100}
    if _exact(quantity, price, amount):
        values |= {"name": line.description, "quantity": quantity, "price_unit": price}
    else:
        label = f"{line.description} ({line.quantity} x {line.unit_price.amount} {line.unit_price.currency})"
        values |= {"name": label, "quantity": Decimal(1), "price_unit": amount}
    return values


def move_values(invoice: Invoice, refs: MoveRefs) -> dict[str, Any]:
    return {
        "move_type": "out_refund" if invoice.kind == "credit_note" else "out_invoice",
        "partner_id": refs.partner,
        "company_id": refs.company,
        "currency_id": refs.currency,
        "invoice_date": invoice.issue_date.isoformat(),
        "invoice_date_due": invoice.due_date.isoformat() if invoice.due_date else None,
        "ref": invoice.id,
        "invoice_origin": f"{invoice.project_id} {invoice.period}",
        "invoice_line_ids": [[0, 0, line_values(line, refs)] for line in invoice.lines],
    }


def expected_figures(invoice: Invoice) -> Figures:
    """The hub's figures as Odoo shows them: a credit note's amounts are positive there."""
    hub = invoice_figures(invoice)
    if invoice.kind != "credit_note":
        return hub
    return Figures(
        hub.currency,
        abs(invoice.subtotal.amount),
        abs(invoice.tax.amount),
        abs(invoice.total.amount),
        hub.lines,
    )


def held_figures(move: dict[str, Any]) -> Figures:
    currency = move.get("currency_id")
    return Figures(
        str(currency[1]) if isinstance(currency, list) else None,
        Decimal(str(move["amount_untaxed"])),
        Decimal(str(move["amount_tax"])),
        Decimal(str(move["amount_total"])),
        len(move.get("invoice_line_ids") or []),
    )
