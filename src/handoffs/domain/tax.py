"""Tax per the legal entity's rules: which tax code applies to a line, and its rounded tax.

Rule (documented in docs/billing-and-revenue.md): the tax code is the contract's, else the
customer's, else the legal entity's default; no code at all means no tax. A line's tax is
its rounded net amount times the code's rate, rounded once to the minor unit with the
legal entity's rounding mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from handoffs.domain.billing import Invoice
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import ValidationError
from handoffs.domain.money import Money
from handoffs.domain.parties import Customer
from handoffs.domain.reference import LegalEntity, TaxCode

__all__ = ["TaxTotal", "line_tax_code", "resolve_tax_code", "tax_on", "tax_totals"]


def resolve_tax_code(
    contract: Contract,
    entity: LegalEntity,
    tax_codes: Mapping[str, TaxCode],
    customer: Customer | None = None,
) -> TaxCode | None:
    """The tax code that applies to a contract's invoice lines.

    Args:
        contract: the contract being invoiced.
        entity: the legal entity that invoices it (must be the contract's).
        tax_codes: known tax codes by id.
        customer: the invoiced customer, whose ``tax_code_id`` is the second choice.

    Returns:
        The contract's tax code, else the customer's, else the entity's default, else None.

    Raises:
        ValidationError: a named code is unknown or belongs to another legal entity.
    """
    if contract.legal_entity_id != entity.id:
        raise ValidationError(
            "legal_entity_id",
            f"tax rule: contract {contract.id} is billed by {contract.legal_entity_id}, not {entity.id}",
        )
    choices = (
        ("contract", contract.tax_code_id),
        ("customer", customer.tax_code_id if customer is not None else None),
        ("legal entity", entity.default_tax_code_id),
    )
    for owner, code_id in choices:
        if code_id is None:
            continue
        code = tax_codes.get(code_id)
        if code is None:
            raise ValidationError("tax_code_id", f"tax rule: the {owner} names unknown tax code {code_id!r}")
        if code.legal_entity_id != entity.id:
            raise ValidationError(
                "tax_code_id",
                f"tax rule: tax code {code_id} belongs to {code.legal_entity_id}, not {entity.id}",
            )
        return code
    return None


def tax_on(net: Money, code: TaxCode | None, rounding: str = "half_up") -> Money:
    """The tax of one line: rounded net times the code's rate, rounded once.

    Args:
        net: the line's net amount (rounded here first if it is not already).
        code: the tax code, or None for no tax.
        rounding: the legal entity's rounding mode (``half_up`` or ``half_even``).
    """
    if code is None:
        return Money.zero(net.currency).rounded(rounding)
    return (net.rounded(rounding) * code.rate).rounded(rounding)


def line_tax_code(
    own: str | None, fallback: TaxCode | None, tax_codes: Mapping[str, TaxCode], legal_entity_id: str
) -> TaxCode | None:
    """A line's tax code: its source's own (a zero-rated disbursement, an exempt item), else
    the contract's, customer's or entity's (``fallback``, from :func:`resolve_tax_code`).

    Raises:
        ValidationError: the own code is unknown or belongs to another legal entity.
    """
    if own is None:
        return fallback
    code = tax_codes.get(own)
    if code is None:
        raise ValidationError("tax_code_id", f"tax rule: a line names unknown tax code {own!r}")
    if code.legal_entity_id != legal_entity_id:
        raise ValidationError(
            "tax_code_id",
            f"tax rule: tax code {own} belongs to {code.legal_entity_id}, not {legal_entity_id}",
        )
    return code


@dataclass(frozen=True, slots=True)
class TaxTotal:
    """The lines of one document taxed at one code: their net amount and their tax."""

    tax_code_id: str | None
    net: Money
    tax: Money


def tax_totals(invoice: Invoice) -> tuple[TaxTotal, ...]:
    """Net and tax per tax code on a document (exact sums of its lines' rounded figures), in
    the order the codes first appear; they add up to the document's subtotal and tax."""
    totals: dict[str | None, TaxTotal] = {}
    for line in invoice.lines:
        zero = Money.zero(invoice.currency)
        was = totals.get(line.tax_code_id, TaxTotal(line.tax_code_id, zero, zero))
        totals[line.tax_code_id] = TaxTotal(line.tax_code_id, was.net + line.amount, was.tax + line.tax)
    return tuple(totals.values())
