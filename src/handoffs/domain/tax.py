"""Tax per the legal entity's rules: which tax code applies to a line, and its rounded tax.

Rule (documented in docs/billing-and-revenue.md): the tax code is the contract's, else the
customer's, else the legal entity's default; no code at all means no tax. A line's tax is
its rounded net amount times the code's rate, rounded once to the minor unit with the
legal entity's rounding mode.
"""

from __future__ import annotations

from collections.abc import Mapping

from handoffs.domain.contracts import Contract
from handoffs.domain.errors import ValidationError
from handoffs.domain.money import Money
from handoffs.domain.parties import Customer
from handoffs.domain.reference import LegalEntity, TaxCode

__all__ = ["resolve_tax_code", "tax_on"]


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
