"""Contract discounts on time: a line of their own, tax on the discounted amount.

Rules (worked in docs/billing-and-revenue.md):

* A time-and-materials contract may give a discount on the time of each invoice: a
  percentage (``time_discount``, a fraction) or a fixed amount (``time_discount_amount``,
  never more than the invoice's time). Expenses are never discounted.
* The discount is one line of kind ``discount`` after the time lines: quantity -1, unit
  price the discount, amount minus the discount (a percentage of the time lines' amounts,
  rounded once).
* Tax is computed on the discounted amount: the discount line's tax is the tax of (time less
  discount), rounded once, less the time lines' taxes; so the invoice's tax on time is
  exactly round((time - discount) x rate).
* Revenue is net of discount: the billing run recognises minus the discount when it issues
  the invoice, and a credit note that credits the discount line gives it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from handoffs.domain.billing import InvoiceLine
from handoffs.domain.contracts import Contract
from handoffs.domain.money import Money
from handoffs.domain.pricing import line_id
from handoffs.domain.reference import TaxCode
from handoffs.domain.tax import tax_on

__all__ = ["discount_line"]


def discount_line(
    *,
    invoice_id: str,
    number: int,
    contract: Contract,
    time_lines: Sequence[InvoiceLine],
    tax_code: TaxCode | None,
    rounding: str = "half_up",
) -> InvoiceLine | None:
    """The discount line for an invoice's time lines, or None when there is no discount."""
    currency = contract.currency
    time = Money.sum([ln.amount for ln in time_lines], currency)
    if contract.time_discount:
        off = (time * contract.time_discount).rounded(rounding)
        text = f"Discount {contract.time_discount * 100:f} % on time of {time}"
    elif contract.time_discount_amount is not None:
        off = min(contract.time_discount_amount.rounded(rounding), time)
        text = f"Discount of {contract.time_discount_amount} on time of {time}"
    else:
        return None
    if off.is_zero:
        return None
    time_tax = Money.sum([ln.tax for ln in time_lines], currency)
    tax = min(tax_on(time - off, tax_code, rounding) - time_tax, Money.zero(currency))
    return InvoiceLine(
        id=line_id(invoice_id, number),
        kind="discount",
        description=text,
        quantity=Decimal(-1),
        unit_price=off,
        amount=-off,
        tax=tax,
        tax_code_id=tax_code.id if tax_code else None,
    )
