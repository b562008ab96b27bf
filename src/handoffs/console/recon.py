"""The reconciliation drill-down: legal entity, then project, then entry, with variance codes.

Every level runs the same controls as ``handoffs reconcile`` (:mod:`handoffs.reconcile.controls`)
for one period and groups their breaks; nothing is recomputed differently for the console.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import orjson
from sqlalchemy import Connection, select

from handoffs.reconcile.controls import Break, reconcile
from handoffs.store.tables import billed_sources, exceptions, invoice_lines, invoices, time_entries

__all__ = ["by_entity", "by_project", "entry", "periods", "project_breaks"]


def periods(conn: Connection) -> list[str]:
    """Periods of work the store holds, newest first."""
    query = select(time_entries.c.period).distinct().order_by(time_entries.c.period.desc())
    return [r[0] for r in conn.execute(query)]


def _summary(breaks: list[Break]) -> dict[str, Any]:
    return {
        "breaks": len(breaks),
        "unexplained": sum(1 for b in breaks if not b.explained),
        "by_code": dict(sorted(Counter(b.code for b in breaks).items())),
    }


def by_entity(conn: Connection, period: str) -> dict[str, Any]:
    """Breaks per legal entity, and what was checked."""
    report = reconcile(conn, period)
    grouped: dict[str, list[Break]] = defaultdict(list)
    for b in report.breaks:
        grouped[b.legal_entity_id].append(b)
    return {
        "checked": dict(report.checked),
        "total": _summary(report.breaks),
        "entities": [{"entity": e, **_summary(bs)} for e, bs in sorted(grouped.items())],
    }


def by_project(conn: Connection, period: str, entity: str) -> dict[str, Any]:
    """Breaks per project of one legal entity."""
    report = reconcile(conn, period, entity)
    grouped: dict[str, list[Break]] = defaultdict(list)
    for b in report.breaks:
        grouped[b.project_id].append(b)
    return {
        "checked": dict(report.checked),
        "total": _summary(report.breaks),
        "projects": [{"project": p, **_summary(bs)} for p, bs in sorted(grouped.items())],
    }


def project_breaks(conn: Connection, period: str, entity: str, project: str) -> list[Break]:
    """Every break of one project: one row per entry (or document) and variance code."""
    return [b for b in reconcile(conn, period, entity).breaks if b.project_id == project]


def entry(conn: Connection, period: str, entity: str, source: str) -> dict[str, Any] | None:
    """One entry (``time_entry:ID``, ``expense:ID`` or ``invoice:ID``): its breaks and its billing."""
    kind, _, source_id = source.partition(":")
    breaks = [b for b in reconcile(conn, period, entity).breaks if b.source == source]
    row = None
    if kind == "time_entry":
        row = conn.execute(
            select(
                time_entries.c.id,
                time_entries.c.project_id,
                time_entries.c.resource_id,
                time_entries.c.work_date,
                time_entries.c.hours,
                time_entries.c.status,
                time_entries.c.billable,
                time_entries.c.billing_state,
                time_entries.c.role,
                time_entries.c.rate,
                time_entries.c.currency,
                time_entries.c.source_system,
                time_entries.c.source_version,
            ).where(time_entries.c.id == source_id)
        ).first()
    if row is None and not breaks:
        return None
    links = conn.execute(
        select(
            billed_sources.c.invoice_line_id,
            billed_sources.c.invoice_id,
            billed_sources.c.released_by,
            invoice_lines.c.unit_price,
            invoice_lines.c.amount,
            invoice_lines.c.currency,
            invoices.c.period,
            invoices.c.status,
        )
        .join(invoice_lines, invoice_lines.c.id == billed_sources.c.invoice_line_id)
        .join(invoices, invoices.c.id == billed_sources.c.invoice_id)
        .where(billed_sources.c.source_type == kind, billed_sources.c.source_id == source_id)
    ).all()
    about = _exceptions_about(conn, source_id) if kind == "time_entry" else []
    return {
        "kind": kind,
        "id": source_id,
        "exceptions": about,
        "fields": None if row is None else dict(row._mapping),
        "breaks": breaks,
        "links": [dict(r._mapping) for r in links],
    }


def _exceptions_about(conn: Connection, entry_id: str) -> list[dict[str, Any]]:
    """Exceptions naming the entry as their object, or holding its dead-lettered pricing message."""
    x = exceptions
    rows = conn.execute(
        select(x.c.id, x.c.category, x.c.state, x.c.reason, x.c.object_id, x.c.raw)
        .where(
            (x.c.object_id == entry_id)
            | ((x.c.consumer == "time-to-invoice.price") & x.c.raw.contains(entry_id, autoescape=True))
        )
        .order_by(x.c.id)
    )
    found = []
    for r in rows:
        if r.object_id != entry_id:
            try:
                if str(orjson.loads(r.raw)["entry_id"]) != entry_id:
                    continue
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue
        found.append({"id": r.id, "category": r.category, "state": r.state, "reason": r.reason})
    return found
