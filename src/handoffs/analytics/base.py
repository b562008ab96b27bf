"""What every data product shares: its scope, its table shape, and exact SQL over the store.

The heavy work is pushed down to the database as set-based SQL that aggregates the big
tables (time entries, the event log, billing links) to a small grain (project x resource x
month, invoice, hour bucket). Python then does the money arithmetic on that grain with
``Decimal``, using the low-volume canonical objects (projects, contracts, resources, rates).

SQLite stores decimals as text, so a plain ``SUM`` there would be a float. :meth:`Context.dec_sum`
sums them as scaled integers instead (exact for values with at most four decimals, which the
canonical model guarantees for hours, rates and amounts); PostgreSQL sums ``NUMERIC`` exactly.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import Connection, Integer, cast, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from handoffs.domain.billing import Payment, RevenueEvent
from handoffs.domain.contracts import Contract
from handoffs.domain.fx import FxTable
from handoffs.domain.money import MINOR_UNITS
from handoffs.domain.parties import Resource
from handoffs.domain.pricing import period_bounds
from handoffs.domain.reference import FxRate, LegalEntity
from handoffs.domain.work import Assignment, Expense, Project, ResourceRequest
from handoffs.store.serde import from_doc
from handoffs.store.tables import invoices, objects, time_entries
from handoffs.store.types import exact_sum, read_exact_sum

__all__ = [
    "UNATTRIBUTED",
    "Col",
    "Context",
    "Product",
    "Scope",
    "add_months",
    "money",
    "month_end",
    "months_between",
    "percentile",
    "q2",
    "ratio",
    "weekdays",
]

T = TypeVar("T")
UNATTRIBUTED = "unattributed"  # the entity of a record the store cannot tie to a legal entity


@dataclass(frozen=True, slots=True)
class Col:
    """One column of a data product: ``kind`` is ``str``, ``int`` or ``dec`` (with ``scale``)."""

    name: str
    kind: str = "str"
    scale: int = 0


@dataclass(slots=True)
class Product:
    """A computed data product: a name, its columns, and rows keyed by column name."""

    name: str
    columns: tuple[Col, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which months (``YYYY-MM``, inclusive) and which legal entity a computation covers."""

    period_from: str | None = None
    period_to: str | None = None
    entity: str | None = None

    def has_period(self, period: str) -> bool:
        return (self.period_from is None or period >= self.period_from) and (
            self.period_to is None or period <= self.period_to
        )

    def has_entity(self, entity: str) -> bool:
        return self.entity is None or entity == self.entity

    def has(self, entity: str, period: str) -> bool:
        return self.has_entity(entity) and self.has_period(period)


def add_months(period: str, n: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    found, p = [], first
    while p <= last:
        found.append(p)
        p = add_months(p, 1)
    return found


def weekdays(period: str) -> int:
    """Monday-to-Friday days in a month (public holidays are not modelled)."""
    year, month = int(period[:4]), int(period[5:7])
    days = calendar.monthrange(year, month)[1]
    return sum(1 for d in range(1, days + 1) if date(year, month, d).weekday() < 5)


def q2(value: Decimal) -> Decimal:
    """Two decimals, half-up: the reporting precision of hours and days."""
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit: the one rounding point of a reported amount."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2)), ROUND_HALF_UP)


def ratio(num: Decimal, den: Decimal, places: int = 4) -> Decimal | None:
    """``num / den`` to ``places`` decimals (half-up), or None when the denominator is zero."""
    if not den:
        return None
    return (num / den).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


class Context:
    """One read of the store for a scope: dialect-aware SQL helpers and cached reference data."""

    def __init__(self, conn: Connection, scope: Scope) -> None:
        self.conn = conn
        self.scope = scope
        self.dialect = conn.dialect.name

    # --- dialect-aware SQL -------------------------------------------------------------
    def dec_sum(self, col: Any) -> ColumnElement[Any]:
        """An exact SUM of a decimal column (read the result with :meth:`dec`)."""
        return exact_sum(col, self.dialect)

    def dec(self, value: Any) -> Decimal:
        return read_exact_sum(value, self.dialect)

    def json_text(self, col: Any, key: str) -> ColumnElement[Any]:
        """A top-level string field of a JSON text column."""
        if self.dialect == "postgresql":
            return literal_column(f"(CAST({col} AS json) ->> '{key}')")
        return func.json_extract(col, f"$.{key}")

    def seconds_between(self, later: Any, earlier: Any) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            return func.extract("epoch", later - earlier)
        return (func.julianday(later) - func.julianday(earlier)) * 86400

    def floor_int(self, value: Any) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            return cast(func.floor(value), Integer)
        return cast(value, Integer)  # SQLite truncates; durations here are not negative

    def month(self, col: Any) -> ColumnElement[Any]:
        """``YYYY-MM`` of a UTC timestamp column."""
        if self.dialect == "postgresql":
            return func.to_char(func.timezone("UTC", col), "YYYY-MM")
        return func.substr(col, 1, 7)

    # --- reference data (low volume, decoded once) ---------------------------------------
    def objects(self, type_: str, cls: type[T]) -> dict[str, T]:
        rows = self.conn.execute(select(objects.c.id, objects.c.doc).where(objects.c.type == type_))
        return {r.id: from_doc(cls, r.doc) for r in rows}

    @cached_property
    def projects(self) -> dict[str, Project]:
        return self.objects("project", Project)

    @cached_property
    def contracts(self) -> dict[str, Contract]:
        return self.objects("contract", Contract)

    @cached_property
    def resources(self) -> dict[str, Resource]:
        return self.objects("resource", Resource)

    @cached_property
    def entities(self) -> dict[str, LegalEntity]:
        return self.objects("legal_entity", LegalEntity)

    @cached_property
    def revenue_events(self) -> list[RevenueEvent]:
        return list(self.objects("revenue_event", RevenueEvent).values())

    @cached_property
    def payments(self) -> list[Payment]:
        return list(self.objects("payment", Payment).values())

    @cached_property
    def expenses(self) -> list[Expense]:
        return list(self.objects("expense", Expense).values())

    @cached_property
    def requests(self) -> dict[str, ResourceRequest]:
        return self.objects("resource_request", ResourceRequest)

    @cached_property
    def assignments(self) -> dict[str, Assignment]:
        return self.objects("assignment", Assignment)

    @cached_property
    def fx(self) -> FxTable:
        return FxTable(self.objects("fx_rate", FxRate).values())

    @cached_property
    def posted(self) -> dict[str, str]:
        """The period each journalled document or revenue event was posted to, by its id.

        An item dated in a period closed by then is posted in the next open one; reports
        count it there, so a closed month never changes and nothing late is lost.
        """
        query = select(objects.c.id, self.json_text(objects.c.doc, "period")).where(
            objects.c.type == "journal_entry", objects.c.id.like("JE-%")
        )
        return {entry_id[3:]: period for entry_id, period in self.conn.execute(query)}

    def project_entity(self, project_id: str | None) -> str:
        project = self.projects.get(project_id or "")
        return project.legal_entity_id if project else UNATTRIBUTED

    # --- shared grains -------------------------------------------------------------------
    @cached_property
    def approved_time(self) -> list[tuple[str, str, str, bool, Decimal | None, Decimal]]:
        """Approved hours up to the scope's last month, by project, resource, month, billable, rate."""
        te = time_entries
        query = select(
            te.c.project_id,
            te.c.resource_id,
            te.c.period,
            te.c.billable,
            te.c.rate,
            self.dec_sum(te.c.hours),
        ).where(te.c.status == "approved")
        if self.scope.period_to:
            query = query.where(te.c.period <= self.scope.period_to)
        query = query.group_by(te.c.project_id, te.c.resource_id, te.c.period, te.c.billable, te.c.rate)
        return [(p, r, m, bool(b), rate, self.dec(h)) for p, r, m, b, rate, h in self.conn.execute(query)]

    @cached_property
    def invoice_rows(self) -> list[Any]:
        inv = invoices
        return list(
            self.conn.execute(
                select(
                    inv.c.id,
                    inv.c.kind,
                    inv.c.contract_id,
                    inv.c.project_id,
                    inv.c.legal_entity_id,
                    inv.c.period,
                    inv.c.currency,
                    inv.c.subtotal,
                    inv.c.total,
                    inv.c.issue_date,
                    inv.c.status,
                )
            )
        )

    @cached_property
    def periods(self) -> list[str]:
        """The months reported: the scope's range, or the months the store has work or invoices in."""
        first, last = self.scope.period_from, self.scope.period_to
        if first is None or last is None:
            seen = [m for _, _, m, *_ in self.approved_time] + [r.period for r in self.invoice_rows]
            seen = [m for m in seen if self.scope.has_period(m)]
            if not seen:
                return []
            first, last = first or min(seen), last or max(seen)
        return months_between(first, last)


def month_end(period: str) -> date:
    return period_bounds(period)[1]


def percentile(values: Iterable[tuple[Decimal, int]], q: Decimal) -> Decimal | None:
    """The nearest-rank ``q`` quantile of (value, count) pairs; None when there are none."""
    pairs = sorted(values)
    total = sum(n for _, n in pairs)
    if not total:
        return None
    rank = max(1, int((q * total).to_integral_value(rounding="ROUND_CEILING")))
    seen = 0
    for value, n in pairs:
        seen += n
        if seen >= rank:
            return value
    return pairs[-1][0]
