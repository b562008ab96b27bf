"""The set-based screen behind the approved-vs-billed control.

Nearly every entry of a period is clean: approved, on exactly one live invoice line of that
period, at the rate card's rate for its role and work date. The database proves that in one
statement and hands back only the entries it cannot clear; the control then explains each
of those one by one. A period of a million entries costs one pass with a few index probes
per entry, not a million Python steps.

The control's inputs that live in Python (hourly projects, rate cards, write-down holds)
and the period's invoice lines go into temporary tables for the length of one screen. A
comparison the database cannot make exactly (a rate stored as ``150.0`` against a card's
``150.00`` in SQLite's text decimals) never clears an entry; it only sends it to the exact
check in Python.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Column,
    Connection,
    Date,
    MetaData,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
)

from handoffs.domain.contracts import Contract
from handoffs.store.scratch import analyze, scratch
from handoffs.store.tables import Id, billed_sources, invoice_lines, invoices, time_entries
from handoffs.store.types import Dec

__all__ = ["HourlyProject", "RateRow", "rate_rows", "screen_time"]

_scratch = MetaData()
_projects = Table(
    "recon_hourly_projects",
    _scratch,
    Column("project_id", Id, primary_key=True),
    Column("contract_id", Id, nullable=False),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)
_rates = Table(
    "recon_rates",
    _scratch,
    Column("contract_id", Id, primary_key=True),
    Column("role", Id, primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("valid_to", Date),  # exclusive; NULL while the version is the latest
    Column("rate", Dec, nullable=False),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)
_held = Table(
    "recon_held",
    _scratch,
    Column("id", Id, primary_key=True),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)
_lines = Table(  # the period's invoice lines of the screened projects, with their rate
    "recon_lines",
    _scratch,
    Column("line_id", Id, primary_key=True),
    Column("unit_price", Dec, nullable=False),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)


@dataclass(frozen=True, slots=True)
class HourlyProject:
    project_id: str
    contract_id: str


@dataclass(frozen=True, slots=True)
class RateRow:
    contract_id: str
    role: str
    valid_from: date
    valid_to: date | None
    rate: Decimal


def rate_rows(contract: Contract) -> Iterator[RateRow]:
    """The contract's rate card as date ranges, with the version ``rate_version_on`` picks for each."""
    starts = sorted({v.effective_from for v in contract.rate_card})
    for i, start in enumerate(starts):
        version = contract.rate_version_on(start)
        end = starts[i + 1] if i + 1 < len(starts) else None
        for role, rate in version.rates.items():
            yield RateRow(contract.id, role, start, end, rate)


def screen_time(
    conn: Connection,
    period: tuple[date, date],
    hourly: Iterable[HourlyProject],
    rates: Iterable[RateRow],
    held: Collection[str],
) -> tuple[int, list[str]]:
    """(entries checked, ids the database could not clear) for work dated within ``period``.

    An entry is cleared when it is not approved billable and on no live line, or when it is
    approved billable, on a live line of an invoice for ``period`` at the rate card's rate
    (when its role has one), and not held on a write-down. The store keeps at most one live
    line per entry (``uq_billed_sources_live``), so the line lookup has one answer.
    """
    te, bs, p, r, h, ln = time_entries, billed_sources, _projects, _rates, _held, _lines
    invoice_period = f"{period[0]:%Y-%m}"
    with _loaded(conn, invoice_period, hourly, rates, held):
        # period is the work date's month (TimeEntry.period): it reaches the (project, period) index
        in_period = and_(
            te.c.period == invoice_period, te.c.work_date >= period[0], te.c.work_date <= period[1]
        )
        scoped = te.join(p, p.c.project_id == te.c.project_id)
        checked = conn.execute(select(func.count()).select_from(scoped).where(in_period)).scalar_one()
        # Every lookup below is by key, one index probe per entry, so the plan cannot go
        # quadratic whatever the planner believes about the store's size (joined instead,
        # PostgreSQL planned a half-loaded store without statistics as one row and rescanned
        # every link for each entry).
        line = (
            select(bs.c.invoice_line_id)
            .where(bs.c.source_type == "time_entry", bs.c.source_id == te.c.id, bs.c.released_by.is_(None))
            .correlate(te)
            .scalar_subquery()
        )
        rate = (
            select(r.c.rate)
            .where(
                r.c.contract_id == p.c.contract_id,
                r.c.role == te.c.role,
                r.c.valid_from <= te.c.work_date,
                or_(r.c.valid_to.is_(None), te.c.work_date < r.c.valid_to),
            )
            .correlate(te, p)
            .scalar_subquery()
        )
        # On a line of this period's invoices (the table holds no other) at the card's rate, when
        # the role has one (the rate is read once: a missing rate compares the price to itself).
        billed_right = exists().where(
            ln.c.line_id == line, ln.c.unit_price == func.coalesce(rate, ln.c.unit_price)
        )
        approved = and_(te.c.status == "approved", te.c.billable.is_(True))
        cleared = [approved, billed_right]
        if held:  # most periods hold nothing on a write-down
            cleared.append(~exists().where(h.c.id == te.c.id))
        clean = or_(and_(~approved, line.is_(None)), and_(*cleared))
        # CASE turns an unknown (NULL) comparison into "not cleared": only a proof clears an entry.
        suspects = conn.execute(
            select(te.c.id).select_from(scoped).where(in_period, case((clean, 1), else_=0) == 0)
        )
        return int(checked), sorted({row.id for row in suspects})


@contextmanager
def _loaded(
    conn: Connection,
    period: str,
    hourly: Iterable[HourlyProject],
    rates: Iterable[RateRow],
    held: Collection[str],
) -> Iterator[None]:
    """The scratch tables, filled, for one screen."""
    with scratch(conn, _scratch):
        _fill(conn, _projects, [{"project_id": x.project_id, "contract_id": x.contract_id} for x in hourly])
        _fill(
            conn,
            _rates,
            [
                {
                    "contract_id": x.contract_id,
                    "role": x.role,
                    "valid_from": x.valid_from,
                    "valid_to": x.valid_to,
                    "rate": x.rate,
                }
                for x in rates
            ],
        )
        _fill(conn, _held, [{"id": i} for i in set(held)])
        # Lines of this period's invoices for these projects; a line of another period is missing
        # here on purpose, so that its entries come back to be explained (billed out of period).
        lines = (
            select(invoice_lines.c.id, invoice_lines.c.unit_price)
            .join(invoices, invoices.c.id == invoice_lines.c.invoice_id)
            .where(invoices.c.period == period, invoices.c.project_id.in_(select(_projects.c.project_id)))
        )
        conn.execute(insert(_lines).from_select(["line_id", "unit_price"], lines))
        analyze(conn, _scratch)  # a screen of a few projects reads their entries by index
        yield


def _fill(conn: Connection, table: Table, rows: list[dict[str, object]]) -> None:
    if rows:
        conn.execute(insert(table), rows)
