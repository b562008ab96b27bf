"""Billing controls: every approved billable hour billed exactly once, every total adding up.

These read the store directly with set-based SQL; they are the controller's evidence, so
they recompute from source rows rather than trusting stored totals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, case, func, select

from handoffs.domain.money import Money
from handoffs.domain.reference import LegalEntity
from handoffs.store.serde import from_doc
from handoffs.store.tables import (
    billed_sources,
    invoice_lines,
    invoices,
    line_credits,
    objects,
    proposals,
    time_entries,
)
from handoffs.store.types import exact_sum, read_exact_sum

__all__ = ["BillingCheck", "check_billing", "held_entries"]

_HOUR_STEP = Decimal("0.0001")


@dataclass(slots=True)
class BillingCheck:
    approved_billable_entries: int = 0
    billed_entries: int = 0
    double_billed_entries: int = 0
    unbilled_by_state: dict[str, int] = field(default_factory=dict)
    invoices: int = 0
    invoices_total_mismatch: list[str] = field(default_factory=list)
    lines_rate_mismatch: list[str] = field(default_factory=list)
    totals_by_currency: dict[str, Decimal] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.double_billed_entries or self.invoices_total_mismatch or self.lines_rate_mismatch)

    def as_dict(self) -> dict[str, Any]:
        return {
            "approved_billable_entries": self.approved_billable_entries,
            "billed_entries": self.billed_entries,
            "double_billed_entries": self.double_billed_entries,
            "unbilled_by_state": self.unbilled_by_state,
            "invoices": self.invoices,
            "invoices_total_mismatch": self.invoices_total_mismatch,
            "lines_rate_mismatch": self.lines_rate_mismatch,
            "totals_by_currency": {k: str(v) for k, v in sorted(self.totals_by_currency.items())},
            "ok": self.ok,
        }


def check_billing(conn: Connection) -> BillingCheck:
    """Recompute billing from the entries: counts, double billing, and every amount to the cent."""
    result = BillingCheck()
    te, bs = time_entries, billed_sources
    live = bs.c.released_by.is_(None)
    approved = (te.c.status == "approved") & te.c.billable.is_(True)
    by_state = {
        str(state): int(n)
        for state, n in conn.execute(
            select(te.c.billing_state, func.count()).where(approved).group_by(te.c.billing_state)
        )
    }  # one pass over the entries for both the total and what is not billed yet
    result.approved_billable_entries = sum(by_state.values())
    per_entry = (
        select(bs.c.source_id, func.count().label("n"))
        .where(live, bs.c.source_type == "time_entry")
        .group_by(bs.c.source_id)
        .subquery()
    )
    billed, twice = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((per_entry.c.n > 1, 1), else_=0)), 0)).select_from(
            per_entry
        )
    ).one()
    result.billed_entries, result.double_billed_entries = int(billed), int(twice)
    result.unbilled_by_state = {state: n for state, n in by_state.items() if state != "billed"}
    _check_lines(conn, result)
    return result


def _roundings(conn: Connection) -> dict[str, str]:
    rows = conn.execute(select(objects.c.id, objects.c.doc).where(objects.c.type == "legal_entity"))
    return {r.id: from_doc(LegalEntity, r.doc).rounding for r in rows}


def _check_lines(conn: Connection, result: BillingCheck) -> None:
    il, inv = invoice_lines, invoices
    hours = _hours_by_line(conn)  # the hours behind each line's live links (a credited line has none)
    held = held_entries(conn)
    credits = _credits_by_line(conn)
    roundings = _roundings(conn)
    headers = {
        r.id: r
        for r in conn.execute(
            select(
                inv.c.id,
                inv.c.kind,
                inv.c.legal_entity_id,
                inv.c.currency,
                inv.c.subtotal,
                inv.c.tax,
                inv.c.total,
            )
        )
    }
    sums: dict[str, Decimal] = defaultdict(Decimal)
    taxes: dict[str, Decimal] = defaultdict(Decimal)
    for line in conn.execute(
        select(
            il.c.id,
            il.c.invoice_id,
            il.c.kind,
            il.c.quantity,
            il.c.unit_price,
            il.c.amount,
            il.c.tax,
            il.c.currency,
        )
    ):
        sums[line.invoice_id] += line.amount
        taxes[line.invoice_id] += line.tax
        if line.kind == "time" and headers[line.invoice_id].kind == "invoice":
            mode = roundings.get(headers[line.invoice_id].legal_entity_id, "half_up")
            if _line_off(
                line, credits.get(line.id), hours.get(line.id), mode, lambda i: _sources(conn, i) & held
            ):
                result.lines_rate_mismatch.append(line.id)
    for row in headers.values():
        result.invoices += 1
        result.totals_by_currency[row.currency] = (
            result.totals_by_currency.get(row.currency, Decimal(0)) + row.total
        )
        if sums[row.id] != row.subtotal or taxes[row.id] != row.tax or row.subtotal + row.tax != row.total:
            result.invoices_total_mismatch.append(row.id)


def _line_off(
    line: Any,
    credited: tuple[Decimal, Decimal, bool] | None,
    worked: Decimal | None,
    mode: str,
    split_by_cap: Any,
) -> bool:
    """Whether a time line, net of its credits, bills other than its live entries' hours x rate.

    A line bills exactly its entries' hours; fewer only where a cap split one (held), and then
    the money left under the cap, within 0.0001 h of its quantity; a credit of an amount only
    lowers it."""
    c_qty, c_amount, conceded = credited or (Decimal(0), Decimal(0), False)
    qty: Decimal = line.quantity + c_qty
    amount: Decimal = line.amount + c_amount
    if worked is None:  # no live entries: whole, or wholly credited
        return credited is not None and not (qty == 0 and amount == 0)
    expected = Money(qty * line.unit_price, line.currency).rounded(mode).amount
    if qty != worked:
        if not (qty < worked and split_by_cap(line.id)):
            return True
        step = Money(_HOUR_STEP * line.unit_price, line.currency).rounded("half_up").amount
        return bool(abs(amount - expected) > step)
    return bool(amount > expected) if conceded else bool(amount != expected)


def _credits_by_line(conn: Connection) -> dict[str, tuple[Decimal, Decimal, bool]]:
    """Per credited invoice line: the quantity and amount credited, and whether an amount was conceded."""
    rows = conn.execute(
        select(
            line_credits.c.credited_line_id,
            line_credits.c.credit_line_id,
            invoice_lines.c.kind,
            invoice_lines.c.quantity,
            invoice_lines.c.amount,
        )
        .join(invoice_lines, invoice_lines.c.id == line_credits.c.credit_line_id)
        .distinct()
    )
    found: dict[str, tuple[Decimal, Decimal, bool]] = {}
    for target, _, kind, quantity, amount in rows:
        qty, total, conceded = found.get(target, (Decimal(0), Decimal(0), False))
        adjustment = kind == "adjustment"
        found[target] = (qty + (0 if adjustment else quantity), total + amount, conceded or adjustment)
    return found


def _hours_by_line(conn: Connection) -> dict[str, Decimal]:
    """Hours per invoice line over its live time links, summed exactly by the database
    (an entry has at most 4 decimals, the bound :func:`exact_sum` needs)."""
    te, bs, dialect = time_entries, billed_sources, conn.dialect.name
    rows = conn.execute(
        select(bs.c.invoice_line_id, exact_sum(te.c.hours, dialect))
        .join(te, te.c.id == bs.c.source_id)
        .where(bs.c.source_type == "time_entry", bs.c.released_by.is_(None))
        .group_by(bs.c.invoice_line_id)
    )
    return {line: read_exact_sum(total, dialect) for line, total in rows}


def _sources(conn: Connection, line_id: str) -> set[str]:
    bs = billed_sources
    rows = conn.execute(
        select(bs.c.source_id).where(
            bs.c.invoice_line_id == line_id, bs.c.source_type == "time_entry", bs.c.released_by.is_(None)
        )
    )
    return {r.source_id for r in rows}


def held_entries(conn: Connection) -> set[str]:
    """Entries with hours held on a write-down proposal (cap overflow) that is not rejected."""
    rows = conn.execute(
        select(proposals.c.doc).where(proposals.c.kind == "write_down", proposals.c.state != "rejected")
    )
    return {item["entry"] for r in rows for item in orjson.loads(r.doc)["items"]}
