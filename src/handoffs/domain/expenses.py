"""Billable expenses: at cost or with the contract's markup, in the contract's currency.

Rule: an approved, billable, not-yet-billed expense of the project incurred on or before
the period's last day becomes one invoice line. Its charge is the expense amount converted
at the FX rate in force on the day it was incurred, times ``1 + expense_markup`` (a
fraction: ``0.15`` is 15 %), rounded once to the minor unit; the converted cost is not
rounded on its own. Tax is the rounded charge times the tax rate, rounded once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from handoffs.domain.billing import InvoiceLine, SourceRef
from handoffs.domain.contracts import Contract
from handoffs.domain.fx import Conversion, FxTable
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.domain.pricing import line_id, period_bounds
from handoffs.domain.reference import TaxCode
from handoffs.domain.tax import line_tax_code, tax_on
from handoffs.domain.work import Expense

__all__ = ["ExpenseBilling", "ExpenseDisposition", "expense_charge", "expense_lines"]


@dataclass(frozen=True, slots=True)
class ExpenseDisposition:
    """What happened to one expense in a billing run, and why."""

    expense_id: str
    line_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ExpenseBilling:
    """The expense lines of a billing run and each expense's disposition."""

    lines: tuple[InvoiceLine, ...]
    dispositions: tuple[ExpenseDisposition, ...]


def expense_charge(
    expense: Expense, contract: Contract, fx: FxTable, rounding: str = "half_up"
) -> tuple[Conversion, Money]:
    """The converted cost (unrounded) and the rounded amount to bill for one expense."""
    conversion = fx.convert(expense.amount, contract.currency, expense.incurred_on)
    charge = (conversion.converted * (Decimal(1) + contract.expense_markup)).rounded(rounding)
    return conversion, charge


def _skip_reason(expense: Expense, project_id: str, period: str, ledger: BillingLedger) -> str | None:
    _, last = period_bounds(period)
    if expense.project_id != project_id:
        return f"not billed: expense is for project {expense.project_id}"
    if not expense.billable:
        return "not billed: non-billable expense"
    if expense.status != "approved":
        return f"not billed: not approved (status {expense.status})"
    if expense.incurred_on > last:
        return f"not billed: incurred after the period ends on {last.isoformat()}"
    billed = ledger.line_billing(SourceRef(type="expense", id=expense.id))
    if billed is not None:
        return f"billed exactly once: already billed on {billed}"
    return None


def expense_lines(
    *,
    invoice_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    expenses: Iterable[Expense],
    ledger: BillingLedger,
    fx: FxTable,
    tax_code: TaxCode | None = None,
    rounding: str = "half_up",
    first_line: int = 1,
    tax_codes: Mapping[str, TaxCode] | None = None,
) -> ExpenseBilling:
    """One invoice line per billable expense, in the contract's currency.

    Args:
        invoice_id: id of the invoice the lines belong to.
        contract: gives the currency and ``expense_markup``.
        project_id: the invoiced project; other projects' expenses are skipped.
        period: billing period ``YYYY-MM``.
        expenses: candidate expenses in any state; each gets a disposition.
        ledger: current billing state; billed expenses are skipped.
        fx: dated FX table used when an expense is in another currency.
        tax_code: tax code for the lines, None for no tax.
        tax_codes: known tax codes by id, for an expense that names its own (``tax_code_id``).
        rounding: the legal entity's rounding mode.
        first_line: number of the first line (to follow the time lines).
    """
    lines: list[InvoiceLine] = []
    dispositions: list[ExpenseDisposition] = []
    markup = contract.expense_markup
    for expense in sorted(expenses, key=lambda e: (e.incurred_on, e.id)):
        reason = _skip_reason(expense, project_id, period, ledger)
        if reason is not None:
            dispositions.append(ExpenseDisposition(expense.id, None, reason))
            continue
        conversion, charge = expense_charge(expense, contract, fx, rounding)
        code = line_tax_code(expense.tax_code_id, tax_code, tax_codes or {}, contract.legal_entity_id)
        text = f"{expense.category} {expense.incurred_on.isoformat()}: {expense.amount}"
        if conversion.rate_id is not None:
            text += f" at {conversion.rate} = {conversion.converted}"
        if markup:
            text += f" + {markup * 100:f} % markup"
        line = InvoiceLine(
            id=line_id(invoice_id, first_line + len(lines)),
            kind="expense",
            description=text,
            quantity=Decimal(1),
            unit_price=charge,
            amount=charge,
            tax=tax_on(charge, code, rounding),
            sources=(SourceRef(type="expense", id=expense.id),),
            resource_id=expense.resource_id,
            tax_code_id=code.id if code else None,
            fx_rate=conversion.rate if conversion.rate_id else None,
            fx_rate_id=conversion.rate_id,
            cost=expense.amount,
            converted_cost=conversion.converted,
            markup=markup,
        )
        lines.append(line)
        dispositions.append(ExpenseDisposition(expense.id, line.id, "billed"))
    return ExpenseBilling(tuple(lines), tuple(dispositions))
