"""Reads for billing readiness: time by project and period, open exceptions, invoices issued."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, select

from handoffs.store.tables import exceptions, invoices, time_entries

__all__ = ["OpenException", "ReadinessReads", "TimeRow"]

_OPEN = ("open", "in_progress", "retrying")


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

    def time(self, period: str) -> dict[str, list[TimeRow]]:
        """Every time entry of ``period`` by project, whatever its approval or billing state."""
        te = time_entries.c
        query = select(te.project_id, te.id, te.status, te.billable, te.billing_state, te.hours).where(
            te.period == period
        )
        found: dict[str, list[TimeRow]] = defaultdict(list)
        for r in self._conn.execute(query.order_by(te.id)):
            found[r.project_id].append(TimeRow(r.id, r.status, bool(r.billable), r.billing_state, r.hours))
        return dict(found)

    def open_exceptions(self) -> dict[str, list[OpenException]]:
        """Unresolved exceptions by the project they concern (correlation id or payload)."""
        c = exceptions.c
        query = select(
            c.id, c.category, c.reason, c.detail, c.raw, c.correlation_id, c.object_type, c.object_id
        )
        found: dict[str, list[OpenException]] = defaultdict(list)
        for r in self._conn.execute(query.where(c.state.in_(_OPEN)).order_by(c.id)):
            detail = orjson.loads(r.detail) if r.detail else {}
            project = _project_of(r, detail)
            if project is not None:
                found[project].append(OpenException(r.id, r.category, detail.get("rule"), r.reason))
        return dict(found)

    def invoiced(self, period: str) -> set[str]:
        """Projects with a live invoice for ``period``."""
        c = invoices.c
        rows = self._conn.execute(select(c.project_id).where(c.period == period, c.kind == "invoice"))
        return {r.project_id for r in rows}


def _project_of(row: Any, detail: dict[str, Any]) -> str | None:
    if row.correlation_id and row.correlation_id.startswith("project:"):
        return str(row.correlation_id[len("project:") :])
    if row.object_type == "project":
        return str(row.object_id)
    if detail.get("project_id"):
        return str(detail["project_id"])
    try:
        payload = orjson.loads(row.raw)
    except orjson.JSONDecodeError:
        return None
    value = payload.get("project_id") if isinstance(payload, dict) else None
    return str(value) if value else None
