"""Pricing approved time against the rate card in force on the day it was worked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from handoffs.domain.billing import Invoice, InvoiceLine, SourceRef
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import ValidationError
from handoffs.domain.money import Money
from handoffs.domain.work import TimeEntry

__all__ = ["PricedEntry", "assemble_invoice", "build_time_invoice", "line_id", "period_bounds", "price_entry"]


@dataclass(frozen=True, slots=True)
class PricedEntry:
    """An approved billable entry with the rate that applies to it."""

    entry_id: str
    resource_id: str
    role: str
    work_date: date
    hours: Decimal
    rate: Money
    rate_card_version: int


def price_entry(entry: TimeEntry, contract: Contract, role: str) -> PricedEntry:
    """Price one entry at the rate-card version effective on its work date."""
    if not entry.is_billable_approved:
        raise ValidationError("status", f"entry {entry.id} is not approved billable time")
    version, rate = contract.rate_for(role, entry.work_date)
    return PricedEntry(entry.id, entry.resource_id, role, entry.work_date, entry.hours, rate, version.version)


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` period."""
    year, month = int(period[:4]), int(period[5:7])
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def build_time_invoice(
    *,
    invoice_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    entries: Iterable[PricedEntry],
    tax_rate: Decimal = Decimal(0),
    tax_code_id: str | None = None,
    rounding: str = "half_up",
    describe: Callable[[PricedEntry], str] | None = None,
) -> Invoice:
    """A time-and-materials invoice: one line per resource, role and rate version.

    Each line's amount is hours x rate rounded once to the minor unit; its tax is the
    rounded line amount x tax rate, rounded once. The invoice lists every entry it bills.
    """
    groups: dict[tuple[str, str, int, Decimal], list[PricedEntry]] = defaultdict(list)
    for p in entries:
        groups[(p.resource_id, p.role, p.rate_card_version, p.rate.amount)].append(p)
    if not groups:
        raise ValidationError("lines", "no priced entries to invoice")
    lines = []
    for n, key in enumerate(sorted(groups), start=1):
        items = sorted(groups[key], key=lambda p: (p.work_date, p.entry_id))
        resource_id, role, version, _ = key
        rate = items[0].rate
        hours = sum((p.hours for p in items), Decimal(0))
        amount = (rate * hours).rounded(rounding)
        lines.append(
            InvoiceLine(
                id=line_id(invoice_id, n),
                kind="time",
                description=describe(items[0]) if describe else f"{role} {resource_id} ({period})",
                quantity=hours,
                unit_price=rate,
                amount=amount,
                tax=(amount * tax_rate).rounded(rounding),
                sources=tuple(SourceRef(type="time_entry", id=p.entry_id) for p in items),
                role=role,
                resource_id=resource_id,
                rate_card_version=version,
                tax_code_id=tax_code_id,
            )
        )
    return assemble_invoice(
        invoice_id=invoice_id, contract=contract, project_id=project_id, period=period, lines=lines
    )


def line_id(invoice_id: str, n: int) -> str:
    """The id of the ``n``-th line of an invoice (``INV-7-L0002``)."""
    return f"{invoice_id}-L{n:04d}"


def assemble_invoice(
    *,
    invoice_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    lines: Sequence[InvoiceLine],
    issue_date: date | None = None,
) -> Invoice:
    """An invoice from finished lines: subtotal, tax and total are sums of the lines.

    Args:
        issue_date: defaults to the period's last day; the due date adds the contract's
            payment terms.
    """
    if not lines:
        raise ValidationError("lines", f"invoice rule: invoice {invoice_id} has no lines to bill")
    _, last = period_bounds(period)
    issued = issue_date or last
    subtotal = Money.sum([line.amount for line in lines], contract.currency)
    tax = Money.sum([line.tax for line in lines], contract.currency)
    return Invoice(
        id=invoice_id,
        kind="invoice",
        legal_entity_id=contract.legal_entity_id,
        customer_id=contract.customer_id,
        contract_id=contract.id,
        project_id=project_id,
        period=period,
        issue_date=issued,
        due_date=issued + timedelta(days=contract.payment_terms_days),
        currency=contract.currency,
        lines=tuple(lines),
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
    )
