"""Expenses (with policy limits and receipts) and the receivables that make DSO computable."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from handoffs.domain.billing import Invoice, InvoiceLine, LineKind, Payment
from handoffs.domain.money import Money
from handoffs.domain.work import ApprovalStatus, Expense
from handoffs.simulator.firm.deals import window
from handoffs.simulator.firm.model import ExpenseInfo, Firm
from handoffs.simulator.firm.reference import EXPENSE_CURRENCIES
from handoffs.simulator.firm.sizes import add_working_days, month_starts, working_days

__all__ = ["build_expenses", "build_receivables"]

# category, sub-type, typical USD range, policy limit in USD (per item)
_KINDS: Final = (
    ("travel", "airfare", 250, 1200, 1500),
    ("travel", "hotel", 120, 300, 325),
    ("travel", "train", 30, 180, 250),
    ("travel", "taxi", 15, 80, 120),
    ("meals", "meal", 12, 70, 90),
    ("software", "subscription", 9, 400, 500),
)
_MERCHANTS: Final = {
    "airfare": "Skyline Air",
    "hotel": "Grand Hotel",
    "train": "Rail Express",
    "taxi": "City Cabs",
    "meal": "Bistro Central",
    "subscription": "SaaSly",
}


def _convert(firm: Firm, usd: Decimal, currency: str) -> Money:
    return Money(usd * firm.fx_to("USD", currency), currency).rounded()


def build_expenses(firm: Firm, rng: random.Random) -> None:
    """Weekly expense reports for staffed consultants, some foreign, some over policy or without receipt."""
    first, last = window(firm)
    weeks = [d for d in working_days(first, last) if d.weekday() == 0 or d == first]
    cutoff = datetime.combine(firm.as_of, time(0), UTC)
    staffed: dict[str, list[str]] = {}
    for a in firm.assignments:
        staffed.setdefault(a.resource_id, []).append(a.project_id)
    people = {r.id: r for r in firm.resources}
    reports = 0
    for person_id in sorted(staffed):
        home = next(le.currency for le in firm.legal_entities if le.id == people[person_id].legal_entity_id)
        for monday in weeks:
            if rng.random() > 0.4:
                continue
            reports += 1
            report_id = f"rpt-{reports:05d}"
            days = [d for d in working_days(monday, monday + timedelta(days=4)) if first <= d <= last]
            submitted = datetime.combine(
                min(days[-1] + timedelta(days=rng.randint(0, 6)), last),
                time(rng.randint(9, 20), rng.randint(0, 59)),
                UTC,
            )
            verdict = rng.random()
            for _ in range(rng.randint(1, 4)):
                _line(
                    firm,
                    rng,
                    person_id,
                    home,
                    report_id,
                    rng.choice(days),
                    rng.choice(staffed[person_id]),
                    submitted,
                    verdict,
                    cutoff,
                )


def _line(
    firm: Firm,
    rng: random.Random,
    person_id: str,
    home: str,
    report_id: str,
    day: date,
    project_id: str,
    submitted: datetime,
    verdict: float,
    cutoff: datetime,
) -> None:
    category, kind, low, high, limit = rng.choice(_KINDS)
    currency = home if rng.random() < 0.7 else rng.choice([c for c in EXPENSE_CURRENCIES if c != home])
    usd = Decimal(rng.randint(low * 100, high * 100)) / 100
    if rng.random() < 0.07:
        usd = (Decimal(limit) * Decimal(rng.randint(115, 190)) / 100).quantize(Decimal("0.01"))
    amount = _convert(firm, usd, currency)
    policy = _convert(firm, Decimal(limit), currency)
    over = amount > policy
    receipt = not (rng.random() < 0.06 or (kind == "meal" and usd < 25 and rng.random() < 0.3))
    flagged = over or not receipt
    status: ApprovalStatus = "approved" if verdict < 0.8 else "submitted" if verdict < 0.92 else "rejected"
    if flagged and status == "approved" and rng.random() < 0.5:
        status = "rejected"
    decided = None
    if status != "submitted":
        decided = datetime.combine(
            add_working_days(submitted.date(), rng.randint(1, 5)),
            time(rng.randint(9, 17), rng.randint(0, 59)),
            UTC,
        )
        if decided >= cutoff:
            status, decided = "submitted", None
    expense_id = f"exp-{len(firm.expenses) + 1:06d}"
    billable = rng.random() < (0.2 if category == "software" else 0.85)
    firm.expenses.append(
        Expense(
            id=expense_id,
            resource_id=person_id,
            project_id=project_id,
            incurred_on=day,
            category=category,
            amount=amount,
            billable=billable,
            reimbursable=rng.random() < 0.85,
            has_receipt=receipt,
            status=status,
            description=f"{kind.capitalize()} - {_MERCHANTS[kind]}",
        )
    )
    firm.expense_info[expense_id] = ExpenseInfo(
        expense_id, report_id, _MERCHANTS[kind], policy, over, submitted, decided
    )


def build_receivables(firm: Firm, rng: random.Random) -> None:
    """Invoices for the two months before the window, and the payments received against them."""
    first, _ = window(firm)
    cutoff = firm.as_of
    taxes = {t.id: t.rate for t in firm.tax_codes}
    prior = month_starts(_back(first, 2), 2)
    projects = {p.contract_id: p for p in firm.projects if p.contract_id}
    for contract in firm.contracts:
        for month in prior:
            if contract.start_date >= month + timedelta(days=27):
                continue
            number = len(firm.invoices) + 1
            issue = add_working_days(_back(month, -1), 2)
            ccy = contract.currency
            net = Money((Decimal(rng.randint(5000, 60000)) * Decimal("1.00")).quantize(Decimal("0.01")), ccy)
            rate = taxes.get(contract.tax_code_id or "", Decimal(0))
            tax = (net * rate).rounded()
            kind: LineKind = {"time_and_materials": "time", "fixed_fee": "fee"}.get(
                contract.billing_model, "milestone"
            )  # type: ignore[assignment]
            period = f"{month.year:04d}-{month.month:02d}"
            line = InvoiceLine(
                id=f"inv-{number:05d}-1",
                kind=kind,
                description=f"Services {period} (opening)",
                quantity=Decimal(1),
                unit_price=net,
                amount=net,
                tax=tax,
                tax_code_id=contract.tax_code_id,
            )
            invoice = Invoice(
                id=f"inv-{number:05d}",
                kind="invoice",
                legal_entity_id=contract.legal_entity_id,
                customer_id=contract.customer_id,
                contract_id=contract.id,
                project_id=projects[contract.id].id,
                period=period,
                issue_date=issue,
                currency=ccy,
                lines=(line,),
                subtotal=net,
                tax=tax,
                total=net + tax,
                due_date=issue + timedelta(days=contract.payment_terms_days),
            )
            firm.invoices.append(invoice)
            _pay(firm, rng, invoice, cutoff)


def _pay(firm: Firm, rng: random.Random, invoice: Invoice, cutoff: date) -> None:
    assert invoice.due_date is not None
    received = invoice.due_date + timedelta(days=rng.randint(-12, 30))
    if received >= cutoff or received <= invoice.issue_date:
        return
    amount = (
        invoice.total
        if rng.random() > 0.08
        else Money((invoice.total.amount / 2).quantize(Decimal("0.01")), invoice.currency)
    )
    firm.payments.append(
        Payment(
            id=f"pay-{len(firm.payments) + 1:05d}",
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            amount=amount,
            received_on=received,
        )
    )


def _back(first: date, months: int) -> date:
    """The first day of the month ``months`` before ``first`` (negative moves forward)."""
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
