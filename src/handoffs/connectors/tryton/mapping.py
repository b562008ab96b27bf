"""The hub's invoice as Tryton's ``account.invoice`` values, and what Tryton holds compared back.

Tryton stores a line's quantity as a float and computes its amount as
``round(Decimal(str(quantity)) * unit_price)`` (half-even, ``account_invoice/invoice.py``
``InvoiceLine.on_change_with_amount``); unit prices keep 4 decimals (``price_decimal``).
A line is sent as it is when Tryton would compute the hub's amount to the cent; otherwise
it is sent as one unit at the line amount, and its description says so with the hub's
quantity and rate: Tryton never rounds a line silently. A credit note is an ``out`` invoice
with negative lines (Tryton numbers it from the credit-note sequence).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from handoffs.domain.billing import Invoice, InvoiceLine

__all__ = ["Refs", "invoice_values", "line_values"]

PRICE_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Refs:
    """The Tryton ids one invoice refers to (looked up by the connector)."""

    company: int
    party: int
    address: int
    receivable: int
    revenue: int
    journal: int
    currency: int
    taxes: dict[str, int]  # the hub's tax code id -> account.tax id


def _exact(line: InvoiceLine) -> bool:
    """Would Tryton compute this line's amount from its quantity and unit price, to the cent?"""
    price = line.unit_price.amount
    if price != price.quantize(Decimal(1).scaleb(-PRICE_DIGITS)):
        return False
    computed = Decimal(str(float(line.quantity))) * price
    minor = Decimal(1).scaleb(-line.amount.minor_unit)
    return computed.quantize(minor, rounding=ROUND_HALF_EVEN) == line.amount.amount


def line_values(line: InvoiceLine, refs: Refs) -> dict[str, Any]:
    tax = refs.taxes.get(line.tax_code_id) if line.tax_code_id else None
    values: dict[str, Any] = {
        "type": "line",
        "invoice_type": "out",
        "company": refs.company,
        "currency": refs.currency,
        "account": refs.revenue,
        "taxes": [["add", [tax]]] if tax is not None else [],
    }
    if _exact(line):
        values |= {
            "description": line.description,
            "quantity": float(line.quantity),
            "unit_price": line.unit_price.amount,
        }
    else:
        note = f"{line.description} ({line.quantity} x {line.unit_price.amount} {line.unit_price.currency})"
        values |= {"description": note, "quantity": 1.0, "unit_price": line.amount.amount}
    return values


def invoice_values(invoice: Invoice, refs: Refs) -> dict[str, Any]:
    return {
        "type": "out",
        "company": refs.company,
        "party": refs.party,
        "invoice_address": refs.address,
        "account": refs.receivable,
        "journal": refs.journal,
        "currency": refs.currency,
        "invoice_date": invoice.issue_date,
        "reference": invoice.id,
        "description": f"{invoice.project_id} {invoice.period}",
        "lines": [["create", [line_values(line, refs) for line in invoice.lines]]],
    }
