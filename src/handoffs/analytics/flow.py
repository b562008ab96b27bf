"""Flow data products: invoice cycle time, straight-through rate, exception resolution time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Select,
    Subquery,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    union,
)

from handoffs.analytics.base import UNATTRIBUTED, Col, Context, Product, percentile, q2, ratio
from handoffs.store.scratch import scratch
from handoffs.store.tables import Id, billed_sources, exceptions, invoices, messages, time_entries
from handoffs.store.types import UtcDateTime

__all__ = ["exception_resolution", "invoice_cycle_time", "straight_through", "straight_through_overall"]

CYCLE = (
    Col("legal_entity_id"),
    Col("period"),
    Col("invoices", "int"),
    Col("entries", "int"),
    Col("mean_days", "dec", 2),
    Col("median_days", "dec", 2),
    Col("p90_days", "dec", 2),
    Col("max_days", "dec", 2),
)
STRAIGHT = (
    Col("legal_entity_id"),
    Col("period"),
    Col("records", "int"),
    Col("invoiced", "int"),
    Col("with_exception", "int"),
    Col("straight_through", "int"),
    Col("rate", "dec", 4),
)
RESOLUTION = (
    Col("legal_entity_id"),
    Col("period"),
    Col("resolved", "int"),
    Col("mean_hours", "dec", 2),
    Col("median_hours", "dec", 2),
    Col("p90_hours", "dec", 2),
    Col("max_hours", "dec", 2),
)
DAY, HOUR = Decimal(86400), Decimal(3600)
HALF, P90 = Decimal("0.5"), Decimal("0.9")
TWO = Decimal("0.01")


_scratch = MetaData()
_approved = Table(
    "analytics_approved_at",
    _scratch,
    Column("entry_id", Id, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)


def _cycle_query(ctx: Context) -> Select[Any]:
    """(entity, invoice, approval time, entries) over live links; one row per timesheet approval."""
    bs, inv, a = billed_sources, invoices, _approved
    query = (
        select(inv.c.legal_entity_id, inv.c.id, a.c.at, func.count())
        .select_from(bs)
        .join(inv, inv.c.id == bs.c.invoice_id)
        .join(a, a.c.entry_id == bs.c.source_id)
        .where(bs.c.source_type == "time_entry", bs.c.released_by.is_(None), inv.c.kind == "invoice")
        .group_by(inv.c.legal_entity_id, inv.c.id, a.c.at)
    )
    if ctx.scope.entity:
        query = query.where(inv.c.legal_entity_id == ctx.scope.entity)
    return query


def invoice_cycle_time(ctx: Context) -> Product:
    """Days from a time entry's approval to the posting of the invoice that bills it.

    approved = the latest TimeEntryApproved ``occurred_at`` for the entry (the source's
    approval time); posted = when the hub recorded the invoice's first InvoicePosted
    (``recorded_at``, the time the hub stored it). Each entry on a live invoice line counts
    once, in the entity of the invoice and the month it was posted. The grain read is
    (invoice, approval time), so one timesheet approval is one row however many entries it
    approved.
    """
    m = messages
    entry_id = ctx.json_text(m.c.payload, "entry_id")
    latest = (
        select(entry_id, func.max(m.c.occurred_at)).where(m.c.type == "TimeEntryApproved").group_by(entry_id)
    )
    invoice_id = ctx.json_text(m.c.payload, "invoice_id")
    posted_at = {
        i: at
        for i, at in ctx.conn.execute(
            select(invoice_id, func.min(m.c.recorded_at))
            .where(m.c.type == "InvoicePosted")
            .group_by(invoice_id)
        )
    }
    with scratch(ctx.conn, _scratch):
        # The latest approval per entry, keyed by entry: the join below looks each link's entry
        # up by key, whatever plan the database picks (joined to an unkeyed grouping, SQLite
        # once chose to scan the million-row grouping once per link).
        ctx.conn.execute(insert(_approved).from_select(["entry_id", "at"], latest))
        rows = ctx.conn.execute(_cycle_query(ctx)).all()
    groups: dict[tuple[str, str], list[tuple[Decimal, int]]] = defaultdict(list)
    posted_in: dict[tuple[str, str], set[str]] = defaultdict(set)
    for entity, invoice, at, n in rows:
        done = posted_at.get(invoice)
        if done is None or at is None:
            continue
        period = done.isoformat()[:7]
        if ctx.scope.has_period(period):
            groups[(entity, period)].append((Decimal(str((done - at).total_seconds())), n))
            posted_in[(entity, period)].add(invoice)
    product = Product("invoice_cycle_time", CYCLE)
    for (entity, period), seconds in sorted(groups.items()):
        entries = sum(n for _, n in seconds)
        hist = [(q2(x / HOUR), n) for x, n in seconds]
        product.rows.append(
            {
                "legal_entity_id": entity,
                "period": period,
                "invoices": len(posted_in[(entity, period)]),
                "entries": entries,
                "mean_days": ratio(sum((x * n for x, n in seconds), Decimal(0)), entries * DAY, 2),
                "median_days": _days(percentile(hist, HALF)),
                "p90_days": _days(percentile(hist, P90)),
                "max_days": q2(max(x for x, _ in seconds) / DAY),
            }
        )
    return product


def _dec(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _days(hours: Decimal | None) -> Decimal | None:
    return None if hours is None else q2(hours * HOUR / DAY)


def _posted_invoices(ctx: Context, posted: Subquery, month: ColumnElement[Any]) -> dict[tuple[str, str], int]:
    inv = invoices
    query = (
        select(inv.c.legal_entity_id, month, func.count())
        .select_from(posted)
        .join(inv, inv.c.id == posted.c.invoice_id)
        .where(inv.c.kind == "invoice")
        .group_by(inv.c.legal_entity_id, month)
    )
    return {(e, p): n for e, p, n in ctx.conn.execute(query)}


def _excepted_entries(ctx: Context) -> Subquery:
    """Ids of time entries an exception names: directly, or through the message it holds."""
    ex, m = exceptions, messages
    direct = select(ex.c.object_id.label("id")).where(ex.c.object_type == "time_entry")
    via = (
        select(ctx.json_text(m.c.payload, "entry_id").label("id"))
        .select_from(ex)
        .join(m, m.c.message_id == ex.c.message_id)
        .where(m.c.type == "TimeEntryApproved")
    )
    return union(direct, via).subquery()


def straight_through(ctx: Context) -> Product:
    """Share of approved billable source records, by month worked, invoiced with no exception.

    Records: approved billable time the hub bills per entry (billing state neither
    ``not_billable`` nor ``not_hourly``) and approved billable expenses. A record is straight
    through when a billing link (live or credited) lists it and no exception names it.
    """
    te, bs = time_entries, billed_sources
    excepted = _excepted_entries(ctx)
    billed = exists().where(bs.c.source_type == "time_entry", bs.c.source_id == te.c.id)
    flagged = te.c.id.in_(select(excepted.c.id))  # one hashed/indexed set, not a scan per entry
    one, zero = literal(1), literal(0)
    query = select(
        te.c.project_id,
        te.c.period,
        func.count(),
        func.sum(case((billed, one), else_=zero)),
        func.sum(case((flagged, one), else_=zero)),
        func.sum(case((and_(billed, ~flagged), one), else_=zero)),
    ).where(
        te.c.status == "approved",
        te.c.billable.is_(True),
        te.c.billing_state.notin_(("not_billable", "not_hourly")),
    )
    if ctx.scope.period_from:
        query = query.where(te.c.period >= ctx.scope.period_from)
    if ctx.scope.period_to:
        query = query.where(te.c.period <= ctx.scope.period_to)
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for project_id, period, *counts in ctx.conn.execute(query.group_by(te.c.project_id, te.c.period)):
        t = totals[(ctx.project_entity(project_id), period)]
        for i, n in enumerate(counts):
            t[i] += int(n or 0)
    _add_expenses(ctx, totals)
    product = Product("straight_through", STRAIGHT)
    for (entity, period), (n, invoiced, flagged_n, clean) in sorted(totals.items()):
        if ctx.scope.has(entity, period):
            product.rows.append(
                {
                    "legal_entity_id": entity,
                    "period": period,
                    "records": n,
                    "invoiced": invoiced,
                    "with_exception": flagged_n,
                    "straight_through": clean,
                    "rate": ratio(Decimal(clean), Decimal(n)),
                }
            )
    return product


def straight_through_overall(rows: Iterable[Mapping[str, Any]]) -> tuple[int, int, Decimal | None]:
    """Records, straight-through records and their rate over rows of :func:`straight_through`.

    The one overall figure: the console's overview card and ``handoffs analytics show`` both
    print it, so they agree (the rate is rounded half-up to 4 decimals, None with no records).
    """
    rows = list(rows)
    records = sum(int(r["records"]) for r in rows)
    straight = sum(int(r["straight_through"]) for r in rows)
    return records, straight, ratio(Decimal(straight), Decimal(records))


def _add_expenses(ctx: Context, totals: dict[tuple[str, str], list[int]]) -> None:
    bs, ex = billed_sources, exceptions
    billed = set(ctx.conn.execute(select(bs.c.source_id).where(bs.c.source_type == "expense")).scalars())
    flagged = set(ctx.conn.execute(select(ex.c.object_id).where(ex.c.object_type == "expense")).scalars())
    for x in ctx.expenses:
        if x.status != "approved" or not x.billable:
            continue
        t = totals[(ctx.project_entity(x.project_id), x.incurred_on.isoformat()[:7])]
        is_billed, is_flagged = x.id in billed, x.id in flagged
        t[0] += 1
        t[1] += is_billed
        t[2] += is_flagged
        t[3] += is_billed and not is_flagged


def exception_resolution(ctx: Context) -> Product:
    """Hours from an exception's creation to its resolution, by the month it was resolved.

    Resolved exceptions only (``state = resolved``; ignored ones are not resolutions). The
    entity is the one of the record it names (through a time entry's, expense's or project's
    project, or an invoice); otherwise ``unattributed``.
    """
    ex, te, inv = exceptions, time_entries, invoices
    query = (
        select(
            ex.c.object_type,
            ex.c.object_id,
            te.c.project_id,
            inv.c.legal_entity_id,
            ex.c.created_at,
            ex.c.updated_at,
        )
        .select_from(ex)
        .outerjoin(te, and_(ex.c.object_type == "time_entry", te.c.id == ex.c.object_id))
        .outerjoin(inv, and_(ex.c.object_type == "invoice", inv.c.id == ex.c.object_id))
        .where(ex.c.state == "resolved")
    )
    expense_project = {x.id: x.project_id for x in ctx.expenses}
    hours: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for object_type, object_id, project_id, invoice_entity, created, resolved in ctx.conn.execute(query):
        if object_type == "expense":
            project_id = expense_project.get(object_id)
        elif object_type == "project":
            project_id = object_id
        entity = invoice_entity or (ctx.project_entity(project_id) if project_id else UNATTRIBUTED)
        period = resolved.isoformat()[:7]
        if ctx.scope.has(entity, period):
            hours[(entity, period)].append(Decimal(str((resolved - created).total_seconds())) / HOUR)
    product = Product("exception_resolution", RESOLUTION)
    for (entity, period), values in sorted(hours.items()):
        pairs = [(v, 1) for v in values]
        product.rows.append(
            {
                "legal_entity_id": entity,
                "period": period,
                "resolved": len(values),
                "mean_hours": ratio(sum(values, Decimal(0)), Decimal(len(values)), 2),
                "median_hours": _two(percentile(pairs, HALF)),
                "p90_hours": _two(percentile(pairs, P90)),
                "max_hours": q2(max(values)),
            }
        )
    return product


def _two(value: Decimal | None) -> Decimal | None:
    return None if value is None else q2(value)
