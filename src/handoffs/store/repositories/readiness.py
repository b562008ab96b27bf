"""Reads for billing readiness: time by project and period, open exceptions, invoices issued."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, select

from handoffs.store.tables import exceptions, invoices, time_entries

__all__ = ["HELD", "OpenException", "ReadinessReads", "TimeRow"]

_OPEN = ("open", "in_progress", "retrying")
HELD = "billing_held"  # the exception category of a billing run held until the project is ready
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class TimeRow:
    id: str
    status: str
    billable: bool
    billing_state: str
    hours: Decimal


@dataclass(frozen=True, slots=True)
class OpenException:
    id: int
    category: str
    rule: str | None
    reason: str


class ReadinessReads:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def time(self, period: str, project_id: str | None = None) -> dict[str, list[TimeRow]]:
        """Every time entry of ``period`` by project, whatever its approval or billing state."""
        te = time_entries.c
        query = select(te.project_id, te.id, te.status, te.billable, te.billing_state, te.hours).where(
            te.period == period
        )
        if project_id is not None:
            query = query.where(te.project_id == project_id)
        found: dict[str, list[TimeRow]] = defaultdict(list)
        for r in self._conn.execute(query.order_by(te.id)):
            found[r.project_id].append(TimeRow(r.id, r.status, bool(r.billable), r.billing_state, r.hours))
        return dict(found)

    def open_exceptions(self, period: str | None = None) -> dict[str, list[OpenException]]:
        """Unresolved exceptions by the project they concern (correlation id or payload).

        With ``period``, only those of that billing period, and those tied to no period (a
        problem with the project or its contract holds every period back).
        """
        c = exceptions.c
        query = select(
            c.id, c.category, c.reason, c.detail, c.raw, c.correlation_id, c.object_type, c.object_id
        )
        # A run held by readiness is the result of the other reasons, not one of them.
        query = query.where(c.state.in_(_OPEN), c.category != HELD)
        rows = list(self._conn.execute(query.order_by(c.id)))
        entries = {r.object_id for r in rows if r.object_type == "time_entry"} if period else set()
        periods = self._entry_periods(entries)
        found: dict[str, list[OpenException]] = defaultdict(list)
        for r in rows:
            detail = orjson.loads(r.detail) if r.detail else {}
            payload = _payload(r.raw)
            project = _project_of(r, detail, payload)
            if project is None:
                continue
            if period is not None and _period_of(r, detail, payload, periods) not in (None, period):
                continue
            found[project].append(OpenException(r.id, r.category, detail.get("rule"), r.reason))
        return dict(found)

    def _entry_periods(self, ids: set[str]) -> dict[str, str]:
        te = time_entries.c
        found: dict[str, str] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            query = select(te.id, te.period).where(te.id.in_(ordered[start : start + 500]))
            found.update({r.id: r.period for r in self._conn.execute(query)})
        return found

    def invoiced(self, period: str) -> set[str]:
        """Projects with a live invoice for ``period``."""
        c = invoices.c
        rows = self._conn.execute(select(c.project_id).where(c.period == period, c.kind == "invoice"))
        return {r.project_id for r in rows}


def _payload(raw: str) -> dict[str, Any]:
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _project_of(row: Any, detail: dict[str, Any], payload: dict[str, Any]) -> str | None:
    if row.correlation_id and row.correlation_id.startswith("project:"):
        return str(row.correlation_id[len("project:") :])
    if row.object_type == "project":
        return str(row.object_id)
    if detail.get("project_id"):
        return str(detail["project_id"])
    value = payload.get("project_id")
    return str(value) if value else None


def _period_of(
    row: Any, detail: dict[str, Any], payload: dict[str, Any], entry_periods: dict[str, str]
) -> str | None:
    """The billing period an exception is about: named, the work's date, or its time entry's."""
    for value in (detail.get("period"), payload.get("period")):
        if isinstance(value, str) and _PERIOD.match(value):
            return value
    for name in ("work_date", "incurred_on"):
        value = payload.get(name)
        if isinstance(value, str) and _PERIOD.match(value[:7]):
            return value[:7]
    if row.object_type == "time_entry":
        return entry_periods.get(row.object_id)
    return None
