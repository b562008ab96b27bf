"""One billing entry point per contract model: what the invoicing flow calls.

* ``bill_time_and_materials``: approved time (capped) plus billable expenses;
* ``bill_installments``: fixed-fee installments due on or before the period's last day;
* ``bill_milestones``: milestones accepted on or before the period's last day.

Each returns the invoice to issue (or None when there is nothing to bill) and never bills a
source the ledger already shows as billed. Billable expenses may ride on any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from handoffs.domain.billing import Invoice, InvoiceLine, SourceRef
from handoffs.domain.contracts import Contract, Installment, Milestone
from handoffs.domain.discounts import discount_line
from handoffs.domain.errors import ValidationError
from handoffs.domain.expenses import ExpenseBilling, expense_lines
from handoffs.domain.fx import FxTable
from handoffs.domain.invoicing import TimeBilling, time_lines
from handoffs.domain.ledger import BillingLedger, fee_billed_to_date
from handoffs.domain.pricing import assemble_invoice, line_id, period_bounds
from handoffs.domain.reference import TaxCode
from handoffs.domain.tax import tax_on
from handoffs.domain.work import Expense, TimeEntry

__all__ = ["TmInvoice", "bill_installments", "bill_milestones", "bill_time_and_materials"]


@dataclass(frozen=True, slots=True)
class TmInvoice:
    """A time-and-materials billing run: the invoice (if any) and every decision made."""

    invoice: Invoice | None
    time: TimeBilling
    expenses: ExpenseBilling


def _require_model(contract: Contract, model: str, rule: str) -> None:
    if contract.billing_model != model:
        raise ValidationError(
            "billing_model", f"{rule}: contract {contract.id} is {contract.billing_model}, not {model}"
        )


def bill_time_and_materials(
    *,
    invoice_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    entries: Iterable[TimeEntry],
    ledger: BillingLedger,
    expenses: Iterable[Expense] = (),
    fx: FxTable | None = None,
    roles: Mapping[str, str] | None = None,
    tax_code: TaxCode | None = None,
    rounding: str = "half_up",
    issue_date: date | None = None,
    tax_codes: Mapping[str, TaxCode] | None = None,
) -> TmInvoice:
    """Invoice a time-and-materials project for a period.

    The cap is measured against ``fee_billed_to_date`` of the ledger's documents; cap
    overflow comes back as ``result.time.write_down`` (to be stored and shown to a person).
    See ``invoicing.time_lines`` and ``expenses.expense_lines`` for the arguments.
    """
    _require_model(contract, "time_and_materials", "time-and-materials billing")
    fee = fee_billed_to_date(ledger.documents, contract.id, contract.currency)
    time = time_lines(
        invoice_id=invoice_id,
        contract=contract,
        project_id=project_id,
        period=period,
        entries=entries,
        ledger=ledger,
        roles=roles,
        tax_code=tax_code,
        rounding=rounding,
        fee_billed=fee,
    )
    off = discount_line(
        invoice_id=invoice_id,
        number=len(time.lines) + 1,
        contract=contract,
        time_lines=time.lines,
        tax_code=tax_code,
        rounding=rounding,
    )
    discounts = [off] if off is not None and time.lines else []
    spent = expense_lines(
        invoice_id=invoice_id,
        contract=contract,
        project_id=project_id,
        period=period,
        expenses=expenses,
        ledger=ledger,
        fx=fx or FxTable(),
        tax_code=tax_code,
        rounding=rounding,
        first_line=len(time.lines) + len(discounts) + 1,
        tax_codes=tax_codes,
    )
    lines = [*time.lines, *discounts, *spent.lines]
    invoice = None
    if lines:
        invoice = assemble_invoice(
            invoice_id=invoice_id,
            contract=contract,
            project_id=project_id,
            period=period,
            lines=lines,
            issue_date=issue_date,
        )
    return TmInvoice(invoice, time, spent)


def _schedule_invoice(
    items: list[tuple[Installment | Milestone, SourceRef, str]],
    *,
    invoice_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    ledger: BillingLedger,
    expenses: Iterable[Expense],
    fx: FxTable | None,
    tax_code: TaxCode | None,
    rounding: str,
    issue_date: date | None,
    tax_codes: Mapping[str, TaxCode] | None = None,
) -> Invoice | None:
    lines: list[InvoiceLine] = []
    for item, ref, text in items:
        if ledger.is_billed(ref):
            continue
        amount = item.amount.rounded(rounding)
        lines.append(
            InvoiceLine(
                id=line_id(invoice_id, len(lines) + 1),
                kind="fee" if ref.type == "installment" else "milestone",
                description=text,
                quantity=Decimal(1),
                unit_price=amount,
                amount=amount,
                tax=tax_on(amount, tax_code, rounding),
                sources=(ref,),
                tax_code_id=tax_code.id if tax_code else None,
            )
        )
    spent = expense_lines(
        invoice_id=invoice_id,
        contract=contract,
        project_id=project_id,
        period=period,
        expenses=expenses,
        ledger=ledger,
        fx=fx or FxTable(),
        tax_code=tax_code,
        rounding=rounding,
        first_line=len(lines) + 1,
        tax_codes=tax_codes,
    )
    lines.extend(spent.lines)
    if not lines:
        return None
    return assemble_invoice(
        invoice_id=invoice_id,
        contract=contract,
        project_id=project_id,
        period=period,
        lines=lines,
        issue_date=issue_date,
    )


def bill_installments(
    *,
    invoice_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    ledger: BillingLedger,
    expenses: Iterable[Expense] = (),
    fx: FxTable | None = None,
    tax_code: TaxCode | None = None,
    rounding: str = "half_up",
    issue_date: date | None = None,
    tax_codes: Mapping[str, TaxCode] | None = None,
) -> Invoice | None:
    """Invoice every unbilled fixed-fee installment due on or before the period's last day.

    Returns:
        The invoice, or None when nothing is due (and no billable expense is waiting).
    """
    _require_model(contract, "fixed_fee", "fixed-fee installments")
    _, last = period_bounds(period)
    due = sorted(
        (i for i in contract.installments if i.due_date is not None and i.due_date <= last),
        key=lambda i: (i.due_date or last, i.id),
    )
    items: list[tuple[Installment | Milestone, SourceRef, str]] = [
        (
            i,
            SourceRef(type="installment", id=i.id),
            f"Fixed fee installment {i.id} due {i.due_date.isoformat() if i.due_date else ''}"
            + (f" ({i.due_on.replace(':', ' of ')})" if i.due_on else ""),
        )
        for i in due
    ]
    return _schedule_invoice(
        items,
        invoice_id=invoice_id,
        contract=contract,
        project_id=project_id,
        period=period,
        ledger=ledger,
        expenses=expenses,
        fx=fx,
        tax_code=tax_code,
        rounding=rounding,
        issue_date=issue_date,
        tax_codes=tax_codes,
    )


def bill_milestones(
    *,
    invoice_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    ledger: BillingLedger,
    expenses: Iterable[Expense] = (),
    fx: FxTable | None = None,
    tax_code: TaxCode | None = None,
    rounding: str = "half_up",
    issue_date: date | None = None,
    tax_codes: Mapping[str, TaxCode] | None = None,
) -> Invoice | None:
    """Invoice every unbilled milestone accepted on or before the period's last day.

    A milestone without an ``accepted_on`` date is never billed.
    """
    _require_model(contract, "milestone", "milestone billing")
    _, last = period_bounds(period)
    accepted = sorted(
        (m for m in contract.milestones if m.accepted_on is not None and m.accepted_on <= last),
        key=lambda m: (m.accepted_on, m.id),
    )
    items: list[tuple[Installment | Milestone, SourceRef, str]] = [
        (m, SourceRef(type="milestone", id=m.id), f"Milestone {m.id} {m.name}, accepted {m.accepted_on}")
        for m in accepted
    ]
    return _schedule_invoice(
        items,
        invoice_id=invoice_id,
        contract=contract,
        project_id=project_id,
        period=period,
        ledger=ledger,
        expenses=expenses,
        fx=fx,
        tax_code=tax_code,
        rounding=rounding,
        issue_date=issue_date,
        tax_codes=tax_codes,
    )
