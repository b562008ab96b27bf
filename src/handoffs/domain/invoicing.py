"""Time-and-materials invoicing: approved time at the rate in force, honouring a cap.

Rules (worked through in docs/billing-and-revenue.md):

* Only approved, billable, not-yet-billed entries of the project worked on or before the
  period's last day are billed; earlier unbilled entries (late approvals) are included.
* Each entry is priced at the rate-card version in force on its work date; lines group
  entries by resource, role and rate version, so a mid-period rate change gives two lines.
* A line's amount is hours x rate rounded once; its tax is the rounded amount x tax rate,
  rounded once; the invoice total is the sum of line amounts plus the sum of line taxes.
* Not-to-exceed cap: entries are taken in work-date order while the time billed on the
  contract (rounded line amounts) stays within the cap. The entry that crosses it is billed
  on a line of its own for exactly the money left under the cap (its quantity is that money
  / rate, rounded down to 0.0001 h); its remaining hours and every later entry are held on
  a write-down proposal worth their delivered value less that money, never billed.
  Every approved billable hour is therefore billed once or held with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_DOWN, Decimal

from handoffs.domain.billing import InvoiceLine, SourceRef
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import ValidationError
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.domain.pricing import PricedEntry, line_id, period_bounds, price_entry
from handoffs.domain.reference import TaxCode
from handoffs.domain.tax import tax_on
from handoffs.domain.work import TimeEntry

__all__ = [
    "Disposition",
    "TimeBilling",
    "WriteDownItem",
    "WriteDownProposal",
    "held_hours",
    "role_of",
    "time_lines",
]

_HOUR_STEP = Decimal("0.0001")
GroupKey = tuple[str, str, int, Decimal]


def role_of(entry: TimeEntry, roles: Mapping[str, str]) -> str:
    """The role an entry is sold as: its own, else its resource's from ``roles``."""
    role = entry.role or roles.get(entry.resource_id)
    if not role:
        raise ValidationError("role", f"rate card rule: entry {entry.id} has no role and none is mapped")
    return role


@dataclass(frozen=True, slots=True)
class Disposition:
    """What happened to one time entry in a billing run, and why.

    ``hours`` are the entry's hours still to bill in this run (its hours less hours held
    on earlier write-downs); ``billed_hours + held_hours == hours`` for every eligible entry.
    """

    entry_id: str
    hours: Decimal
    billed_hours: Decimal
    held_hours: Decimal
    line_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class WriteDownItem:
    """Hours of one entry held back by a cap, at the rate they would have been billed."""

    entry_id: str
    hours: Decimal
    rate: Money
    rate_card_version: int


@dataclass(frozen=True, slots=True)
class WriteDownProposal:
    """Cap overflow held for a person to write down; never billed."""

    id: str
    contract_id: str
    project_id: str
    period: str
    reason: str
    items: tuple[WriteDownItem, ...]
    hours: Decimal
    amount: Money  # sum of hours x rate, rounded once


@dataclass(frozen=True, slots=True)
class TimeBilling:
    """The lines of a time billing run, each entry's disposition and any cap overflow."""

    lines: tuple[InvoiceLine, ...]
    dispositions: tuple[Disposition, ...]
    write_down: WriteDownProposal | None


def _skip_reason(entry: TimeEntry, project_id: str, last: date, ledger: BillingLedger) -> str | None:
    if entry.project_id != project_id:
        return f"not billed: entry is for project {entry.project_id}"
    if not entry.billable:
        return "not billed: non-billable time"
    if entry.status != "approved":
        return f"not billed: not approved (status {entry.status})"
    if entry.work_date > last:
        return f"not billed: worked after the period ends on {last.isoformat()}"
    billed = ledger.line_billing(SourceRef(type="time_entry", id=entry.id))
    if billed is not None:
        return f"billed exactly once: already billed on {billed}"
    if ledger.held_hours(entry.id) >= entry.hours:
        return "not billed: held on a write-down proposal"
    return None


def held_hours(proposals: Iterable[WriteDownProposal]) -> dict[str, Decimal]:
    """Hours held per time entry on write-down proposals, for ``BillingLedger.from_documents``."""
    held: dict[str, Decimal] = {}
    for proposal in proposals:
        for item in proposal.items:
            held[item.entry_id] = held.get(item.entry_id, Decimal(0)) + item.hours
    return held


def _group_total(groups: Mapping[GroupKey, list[PricedEntry]], currency: str, rounding: str) -> Money:
    amounts = [
        (items[0].rate * sum((p.hours for p in items), Decimal(0))).rounded(rounding)
        for items in groups.values()
    ]
    return Money.sum(amounts, currency)


def _line(
    lid: str,
    items: Sequence[PricedEntry],
    hours: Decimal,
    period: str,
    code: TaxCode | None,
    rounding: str,
    note: str = "",
    amount: Money | None = None,
) -> InvoiceLine:
    first = items[0]
    amount = amount if amount is not None else (first.rate * hours).rounded(rounding)
    return InvoiceLine(
        id=lid,
        kind="time",
        description=f"{first.role} {first.resource_id} ({period}), rate card v{first.rate_card_version}"
        + note,
        quantity=hours,
        unit_price=first.rate,
        amount=amount,
        tax=tax_on(amount, code, rounding),
        sources=tuple(SourceRef(type="time_entry", id=p.entry_id) for p in items),
        role=first.role,
        resource_id=first.resource_id,
        rate_card_version=first.rate_card_version,
        tax_code_id=code.id if code else None,
    )


def _hours_that_fit(p: PricedEntry, residue: Money) -> Decimal:
    """Hours of the crossing entry billed under the cap: the money left / rate, rounded down to
    0.0001 h (at least 0.0001 h while money is left, at most the entry's hours)."""
    if residue.amount <= 0 or p.rate.amount <= 0:
        return Decimal(0)
    fit = (residue.amount / p.rate.amount).quantize(_HOUR_STEP, rounding=ROUND_DOWN)
    return min(p.hours, max(fit, _HOUR_STEP))


def time_lines(
    *,
    invoice_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    entries: Iterable[TimeEntry],
    ledger: BillingLedger,
    roles: Mapping[str, str] | None = None,
    tax_code: TaxCode | None = None,
    rounding: str = "half_up",
    fee_billed: Money | None = None,
    write_down_id: str | None = None,
    first_line: int = 1,
) -> TimeBilling:
    """Price and group a project's billable time for one invoice, honouring the cap.

    Args:
        invoice_id: id of the invoice the lines belong to (line ids derive from it).
        contract: the time-and-materials contract (rate card, optional ``cap``).
        project_id: the invoiced project; entries of other projects are skipped.
        period: the billing period ``YYYY-MM``; entries after its last day wait.
        entries: candidate entries in any state; each gets a disposition.
        ledger: current billing state (billed and held sources are skipped).
        roles: resource id → role, for entries that do not carry their role.
        tax_code: tax code for the lines (see ``tax.resolve_tax_code``), None for no tax.
        rounding: the legal entity's rounding mode.
        fee_billed: time already billed on the contract (``ledger.fee_billed_to_date``).
        write_down_id: id for the write-down proposal (default ``<invoice_id>-WD``).
        first_line: number of the first line (to follow lines already on the invoice).
    """
    _, last = period_bounds(period)
    currency = contract.currency
    before = fee_billed if fee_billed is not None else Money.zero(currency)
    dispositions: list[Disposition] = []
    priced: list[PricedEntry] = []
    for entry in sorted(entries, key=lambda e: (e.work_date, e.id)):
        reason = _skip_reason(entry, project_id, last, ledger)
        if reason is None:
            p = price_entry(entry, contract, role_of(entry, roles or {}))
            priced.append(replace(p, hours=entry.hours - ledger.held_hours(entry.id)))
        else:
            dispositions.append(Disposition(entry.id, entry.hours, Decimal(0), Decimal(0), None, reason))
    headroom = None if contract.cap is None else contract.cap - before
    groups: dict[GroupKey, list[PricedEntry]] = {}
    partial: tuple[PricedEntry, Decimal] | None = None
    money_left = Money.zero(currency)
    held: list[tuple[PricedEntry, Decimal]] = []
    for p in priced:
        if held or partial is not None:
            held.append((p, p.hours))
            continue
        key = (p.resource_id, p.role, p.rate_card_version, p.rate.amount)
        trial = {**groups, key: [*groups.get(key, []), p]}
        if headroom is None or _group_total(trial, currency, rounding) <= headroom:
            groups = trial
            continue
        residue = headroom - _group_total(groups, currency, rounding)
        fit = _hours_that_fit(p, residue)
        if fit > 0:
            partial = (p, fit)
            money_left = residue
        held.append((p, p.hours - fit))
    lines: list[InvoiceLine] = []
    line_of: dict[str, str] = {}
    for n, key in enumerate(sorted(groups), start=first_line):
        items = sorted(groups[key], key=lambda q: (q.work_date, q.entry_id))
        hours = sum((q.hours for q in items), Decimal(0))
        lines.append(_line(line_id(invoice_id, n), items, hours, period, tax_code, rounding))
        line_of.update({q.entry_id: lines[-1].id for q in items})
        dispositions.extend(
            Disposition(q.entry_id, q.hours, q.hours, Decimal(0), lines[-1].id, "billed") for q in items
        )
    write_down = None
    if held:
        wd_items = tuple(WriteDownItem(p.entry_id, h, p.rate, p.rate_card_version) for p, h in held if h > 0)
        wd_hours = sum((i.hours for i in wd_items), Decimal(0))
        # What the overflow is worth: the crossing entry and every later one at their rates,
        # less the money billed on the crossing line, so billed + written down = delivered.
        worth = Money.sum([p.rate * p.hours for p, _ in held], currency).rounded(rounding)
        wd_amount = max(worth - money_left, Money.zero(currency))
        reason = (
            f"cap reached: contract {contract.id} is capped at {contract.cap}; time billed before this "
            f"invoice {before}; {wd_hours} h worth {wd_amount} "
            "held for write-down, not billed"
        )
        write_down = WriteDownProposal(
            write_down_id or f"{invoice_id}-WD",
            contract.id,
            project_id,
            period,
            reason,
            wd_items,
            wd_hours,
            wd_amount,
        )
        split = partial[0].entry_id if partial else None
        for p, h in held:
            if p.entry_id != split:
                dispositions.append(Disposition(p.entry_id, p.hours, Decimal(0), h, None, reason))
    if partial is not None:
        p, fit = partial
        note = f"; {fit} of {p.hours} h billed, cap reached"
        lid = line_id(invoice_id, first_line + len(lines))
        lines.append(_line(lid, [p], fit, period, tax_code, rounding, note, amount=money_left))
        rest = p.hours - fit
        why = "billed" if rest == 0 else (write_down.reason if write_down else "billed")
        dispositions.append(Disposition(p.entry_id, p.hours, fit, rest, lines[-1].id, why))
    return TimeBilling(tuple(lines), tuple(sorted(dispositions, key=lambda d: d.entry_id)), write_down)
