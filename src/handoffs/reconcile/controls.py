"""Reconciliation controls: approved work against invoice lines against journals and the ERP.

Three-way, per legal entity and period of work:

    approved billable time / billable expenses  ─►  live invoice lines  ─►  journal + ERP posting

Every difference is a *break* with a variance code. Some are explained by a decision the
hub recorded (a write-down, a credit note awaiting re-billing, a late item billed in a later
period); the rest are unexplained and need a person.

| code | meaning | explained |
| --- | --- | --- |
| ``write_down`` | cap overflow held on a write-down proposal | yes |
| ``credit_note`` | credited and not billed again yet | yes |
| ``out_of_period`` | billed on an invoice of a later period (late approval) | yes |
| ``exception_open`` | not billed because an open exception holds it (failed validation) | yes |
| ``not_billed`` | approved billable work on no invoice line | no |
| ``unapproved`` | billed, but no longer approved billable | no |
| ``rate_mismatch`` | the line's rate is not the rate card's rate on the work date | no |
| ``missing_posting`` | the invoice has no journal, or is not confirmed by the ERP | no |
| ``posted_twice`` | more than one confirmed delivery or live link for one document | no |
| ``amount``, ``tax``, ``currency``, ``fx_difference`` | a journal or ERP differs from the document | no |
| ``credited_twice`` | a line's source credited twice, or credits above the line | no |
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Select, func, select

from handoffs.domain.contracts import Contract
from handoffs.domain.pricing import period_bounds
from handoffs.reconcile.amounts import amount_breaks
from handoffs.reconcile.billing import held_entries
from handoffs.reconcile.screen import HourlyProject, rate_rows, screen_time
from handoffs.store.serde import from_doc
from handoffs.store.tables import (
    billed_sources,
    deliveries,
    exceptions,
    invoice_lines,
    invoices,
    objects,
    time_entries,
)

__all__ = ["CONTROLS", "EXPLAINED", "IN_FLIGHT", "Break", "ReconcileReport", "reconcile", "record_breaks"]

CONTROLS = ("approved_vs_billed", "reimbursable_vs_invoiced", "margin_vs_postings", "documents_vs_journals")

EXPLAINED = frozenset({"write_down", "credit_note", "out_of_period", "exception_open"})
# Differences that are normal while work is still flowing (approved time not billed yet, an
# invoice not confirmed yet): the controls run after a worker batch leave them to the period's
# reconciliation (``in_flight=True``).
IN_FLIGHT = frozenset({"not_billed"})


@dataclass(frozen=True, slots=True)
class Break:
    control: str
    code: str
    legal_entity_id: str
    project_id: str
    source: str  # e.g. time_entry:TE-1 or invoice:INV-1
    detail: str

    @property
    def explained(self) -> bool:
        return self.code in EXPLAINED


@dataclass(slots=True)
class ReconcileReport:
    period: str
    entity: str | None
    checked: Counter[str] = field(default_factory=Counter)
    breaks: list[Break] = field(default_factory=list)

    @property
    def unexplained(self) -> list[Break]:
        return [b for b in self.breaks if not b.explained]

    def as_dict(self) -> dict[str, Any]:
        by_code = Counter(b.code for b in self.breaks)
        return {
            "period": self.period,
            "entity": self.entity,
            "checked": dict(self.checked),
            "breaks": len(self.breaks),
            "unexplained": len(self.unexplained),
            "by_code": dict(sorted(by_code.items())),
            "details": [
                {
                    "control": b.control,
                    "code": b.code,
                    "explained": b.explained,
                    "legal_entity_id": b.legal_entity_id,
                    "project_id": b.project_id,
                    "source": b.source,
                    "detail": b.detail,
                }
                for b in self.breaks
            ],
        }


def _in_chunks(conn: Connection, query: Select[Any], column: Any, ids: Sequence[str]) -> Iterator[Any]:
    """The rows of ``query`` for ``ids``, asked 500 ids at a time (bound-parameter limits)."""
    for start in range(0, len(ids), 500):
        yield from conn.execute(query.where(column.in_(ids[start : start + 500])))


def _objects(conn: Connection, type_: str, cls: type, ids: Collection[str] | None = None) -> dict[str, Any]:
    """Every stored object of a type, or only those with ``ids`` (read in chunks of 500)."""
    query = select(objects.c.id, objects.c.doc).where(objects.c.type == type_)
    if ids is None:
        return {r.id: from_doc(cls, r.doc) for r in conn.execute(query)}
    return {r.id: from_doc(cls, r.doc) for r in _in_chunks(conn, query, objects.c.id, sorted(set(ids)))}


def reconcile(
    conn: Connection,
    period: str,
    entity: str | None = None,
    *,
    projects: Collection[str] | None = None,
    in_flight: bool = False,
    controls: Collection[str] = CONTROLS,
) -> ReconcileReport:
    """Run every control for one period of work (and one legal entity, or all).

    Args:
        projects: only these projects (the controls run after a worker batch use the ones it touched).
        in_flight: leave out what is normal while work still flows (:data:`IN_FLIGHT` codes, and
            invoices not confirmed by the ERP yet).
        controls: which of :data:`CONTROLS` to run (all by default).
    """
    from handoffs.domain.work import Expense, Project

    report = ReconcileReport(period, entity)
    scope = {
        k: p
        for k, p in sorted(_objects(conn, "project", Project, projects).items())
        if entity in (None, p.legal_entity_id)
    }
    wanted = None if projects is None else [p.contract_id for p in scope.values() if p.contract_id]
    contracts = _objects(conn, "contract", Contract, wanted)
    if "approved_vs_billed" in controls:
        _time_control(conn, report, period, scope, contracts)
    if "reimbursable_vs_invoiced" in controls:
        expenses = [x for x in _objects(conn, "expense", Expense).values() if x.project_id in scope]
        ids = [x.id for x in expenses]
        links, released = _live_links(conn, "expense", ids), _released(conn, "expense", ids)
        _expense_control(report, period, scope, expenses, links, released)
    if "margin_vs_postings" in controls:
        _posting_control(conn, report, period, scope, in_flight)
    if "documents_vs_journals" in controls:
        compared, found = amount_breaks(conn, period, list(scope), read_back=not in_flight)
        report.checked["documents_by_amount"] += compared
        report.breaks.extend(Break("documents_vs_journals", *item) for item in found)
    if in_flight:
        report.breaks = [b for b in report.breaks if b.code not in IN_FLIGHT]
    return report


def record_breaks(uow: Any, report: ReconcileReport) -> Counter[str]:
    """Open one exception per unexplained break (never a second for the same break).

    Returns the new exceptions by variance code.
    """
    opened: Counter[str] = Counter()
    for b in report.unexplained:
        kind, _, object_id = b.source.partition(":")
        fingerprint = hashlib.sha256(f"{report.period}|{b.control}|{b.code}|{b.source}".encode()).hexdigest()
        created = uow.exceptions.add(
            category="reconciliation_break",
            source=f"control:{b.control}",
            priority=2,
            reason=f"{b.code}: {b.source} ({b.detail})",
            raw=b.source,
            detail={
                "control": b.control,
                "code": b.code,
                "period": report.period,
                "project_id": b.project_id,
            },
            object_type=kind,
            object_id=object_id,
            correlation_id=f"project:{b.project_id}",
            fingerprint=fingerprint[:32],
        )
        if created is not None:
            opened[b.code] += 1
    return opened


def _live_links(
    conn: Connection, source_type: str, ids: list[str]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(source type, id) -> [(invoice line id, invoice period)] for the live billing links of ``ids``."""
    query = (
        select(
            billed_sources.c.source_type,
            billed_sources.c.source_id,
            billed_sources.c.invoice_line_id,
            invoices.c.period,
        )
        .join(invoices, invoices.c.id == billed_sources.c.invoice_id)
        .where(billed_sources.c.released_by.is_(None), billed_sources.c.source_type == source_type)
    )
    found: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for t, i, line, p in _in_chunks(conn, query, billed_sources.c.source_id, ids):
        found[(t, i)].append((line, p))
    return found


def _released(conn: Connection, source_type: str, ids: list[str]) -> set[tuple[str, str]]:
    """Which of ``ids`` were billed once and released by a credit note."""
    bs = billed_sources
    query = select(bs.c.source_type, bs.c.source_id).where(
        bs.c.source_type == source_type, bs.c.released_by.isnot(None)
    )
    return {(r[0], r[1]) for r in _in_chunks(conn, query, bs.c.source_id, ids)}


def _time_control(
    conn: Connection,
    report: ReconcileReport,
    period: str,
    projects: dict[str, Any],
    contracts: dict[str, Contract],
) -> None:
    """Approved billable time against live invoice lines: the database clears the clean entries
    in one statement (:mod:`handoffs.reconcile.screen`); each one it cannot clear is explained here."""
    hourly = {
        pid: p
        for pid, p in projects.items()
        if p.billable
        and (c := contracts.get(p.contract_id or "")) is not None
        and c.billing_model == "time_and_materials"
    }
    wanted = {p.contract_id for p in hourly.values()}
    held = held_entries(conn)
    checked, suspects = screen_time(
        conn,
        period_bounds(period),
        [HourlyProject(pid, p.contract_id) for pid, p in hourly.items()],
        [row for cid in sorted(wanted) for row in rate_rows(contracts[cid])],
        held,
    )
    report.checked["time_entries"] += checked
    if not suspects:
        return
    te = time_entries
    links, released = _live_links(conn, "time_entry", suspects), _released(conn, "time_entry", suspects)
    line_ids = [line for live in links.values() for line, _ in live]
    lines = select(invoice_lines.c.id, invoice_lines.c.unit_price)
    line_rates: dict[str, Any] = dict(_in_chunks(conn, lines, invoice_lines.c.id, line_ids))
    excepted = _held_by_exceptions(conn)
    cols = (
        te.c.id,
        te.c.project_id,
        te.c.work_date,
        te.c.hours,
        te.c.status,
        te.c.billable,
        te.c.role,
        te.c.billing_state,
    )
    for r in _in_chunks(conn, select(*cols), te.c.id, suspects):
        project = hourly[r.project_id]
        contract = contracts[project.contract_id]
        live = links.get(("time_entry", r.id), [])
        billed_at = [line_rates.get(line) for line, _ in live]
        expected = _rate(contract, r.role, r.work_date) if r.role else None
        for code, detail in _entry_breaks(r, excepted, expected, live, billed_at, period, held, released):
            report.breaks.append(
                Break(
                    "approved_vs_billed",
                    code,
                    project.legal_entity_id,
                    r.project_id,
                    f"time_entry:{r.id}",
                    detail,
                )
            )


def _entry_breaks(
    r: Any,
    excepted: set[str],
    expected: Any,
    live: list[tuple[str, str]],
    rates: list[Any],
    period: str,
    held: set[str],
    released: set[tuple[str, str]],
) -> list[tuple[str, str]]:
    approved = r.status == "approved" and r.billable
    if approved and not live:
        if r.id in held:
            return [("write_down", "held on a write-down proposal (cap overflow)")]
        if ("time_entry", r.id) in released:
            return [("credit_note", "credited; waiting to be billed again")]
        if r.id in excepted:
            return [("exception_open", f"approved {r.hours} h held by an open exception")]
        return [("not_billed", f"approved {r.hours} h, billing state {r.billing_state}")]
    found: list[tuple[str, str]] = []
    if live and r.id in held:
        found.append(("write_down", "billed up to the cap; the rest is held on a write-down proposal"))
    if live and not approved:
        found.append(("unapproved", f"billed on {live[0][0]} but status is {r.status}"))
    if len(live) > 1:
        found.append(("posted_twice", f"on {len(live)} live lines: {', '.join(x[0] for x in live)}"))
    for (line_id, invoice_period), rate in zip(live, rates, strict=True):
        if invoice_period != period:
            found.append(("out_of_period", f"billed on {line_id} in {invoice_period}"))
        if expected is not None and rate != expected:
            found.append(("rate_mismatch", f"{line_id} at {rate}, the rate card says {expected}"))
    return found


def _held_by_exceptions(conn: Connection) -> set[str]:
    """Time entries an unresolved exception holds: named as its object, or as the entry of the
    pricing message that was dead-lettered."""
    open_states = ("open", "in_progress", "retrying")
    held = {
        r.object_id
        for r in conn.execute(
            select(exceptions.c.object_id).where(
                exceptions.c.object_type == "time_entry", exceptions.c.state.in_(open_states)
            )
        )
    }
    rows = conn.execute(
        select(exceptions.c.raw).where(
            exceptions.c.consumer == "time-to-invoice.price", exceptions.c.state.in_(open_states)
        )
    )
    for r in rows:
        try:
            held.add(str(orjson.loads(r.raw)["entry_id"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
    return held


def _rate(contract: Contract, role: str, day: date) -> Any:
    try:
        return contract.rate_for(role, day)[1].amount
    except Exception:  # no rate: the pricing step already raised its own exception
        return None


def _expense_control(
    report: ReconcileReport,
    period: str,
    projects: dict[str, Any],
    expenses: list[Any],
    links: dict[tuple[str, str], list[tuple[str, str]]],
    released: set[tuple[str, str]],
) -> None:
    first, last = period_bounds(period)
    for x in expenses:
        if not (first <= x.incurred_on <= last) or not x.billable:
            continue
        project = projects[x.project_id]
        report.checked["billable_expenses"] += 1
        live = links.get(("expense", x.id), [])
        source = f"expense:{x.id}"
        if x.status == "approved" and not live:
            code = "credit_note" if ("expense", x.id) in released else "not_billed"
            report.breaks.append(
                Break(
                    "reimbursable_vs_invoiced",
                    code,
                    project.legal_entity_id,
                    x.project_id,
                    source,
                    f"approved {x.amount} not on a live invoice line",
                )
            )
        elif live and x.status != "approved":
            report.breaks.append(
                Break(
                    "reimbursable_vs_invoiced",
                    "unapproved",
                    project.legal_entity_id,
                    x.project_id,
                    source,
                    f"billed on {live[0][0]} but status is {x.status}",
                )
            )


def _posting_control(
    conn: Connection, report: ReconcileReport, period: str, projects: dict[str, Any], in_flight: bool = False
) -> None:
    rows = conn.execute(
        select(invoices.c.id, invoices.c.project_id, invoices.c.legal_entity_id, invoices.c.status).where(
            invoices.c.period == period, invoices.c.project_id.in_(list(projects))
        )
    ).all()
    ids = [r.id for r in rows]
    journal_ids = [f"JE-{x}" for x in ids]
    journal_rows = select(objects.c.id).where(objects.c.type == "journal_entry")
    journals = {r.id for r in _in_chunks(conn, journal_rows, objects.c.id, journal_ids)}
    confirmations = select(deliveries.c.object_id).where(
        deliveries.c.object_type == "invoice", deliveries.c.status == "confirmed"
    )
    confirmed = Counter(r.object_id for r in _in_chunks(conn, confirmations, deliveries.c.object_id, ids))
    systems = conn.execute(select(func.count(func.distinct(deliveries.c.system)))).scalar_one()
    for r in rows:
        if r.status == "imported":
            continue
        report.checked["invoices"] += 1
        source = f"invoice:{r.id}"
        if f"JE-{r.id}" not in journals:
            report.breaks.append(
                Break(
                    "margin_vs_postings",
                    "missing_posting",
                    r.legal_entity_id,
                    r.project_id,
                    source,
                    "no journal entry",
                )
            )
        if systems and confirmed[r.id] == 0 and not in_flight:
            report.breaks.append(
                Break(
                    "margin_vs_postings",
                    "missing_posting",
                    r.legal_entity_id,
                    r.project_id,
                    source,
                    f"not confirmed by the ERP (status {r.status})",
                )
            )
        if confirmed[r.id] > systems:
            report.breaks.append(
                Break(
                    "margin_vs_postings",
                    "posted_twice",
                    r.legal_entity_id,
                    r.project_id,
                    source,
                    f"{confirmed[r.id]} confirmed deliveries",
                )
            )
