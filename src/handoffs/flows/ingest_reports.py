"""What ingest cannot store becomes an exception that keeps the raw record and where it was.

An exception's fingerprint names the problem, so the same record sent again while the first
report is open is not a second exception.
"""

from __future__ import annotations

import hashlib
from typing import Any

from handoffs.domain.errors import ValidationError
from handoffs.domain.work import TimeEntry

__all__ = ["correlation_for_project", "fingerprint", "label", "report_bad_line", "report_locked"]


def correlation_for_project(project_id: str) -> str:
    return f"project:{project_id}"


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def label(where: Any) -> str:
    return f"line {where}" if isinstance(where, int) else str(where)


def report_bad_line(uow: Any, source: str, number: int, raw: str, error: ValidationError) -> None:
    uow.exceptions.add(
        category="validation",
        source=source,
        reason=f"line {number}: {error}",
        raw=raw,
        detail={"line": number, "field": error.field, "rule": error.reason},
        fingerprint=fingerprint(source, str(number), raw),
    )


def report_locked(uow: Any, source: str, number: Any, raw: str, entry: TimeEntry) -> None:
    uow.exceptions.add(
        category="billed_entry_changed",
        source=source,
        reason=f"{label(number)}: time entry {entry.id} is already billed; the change waits as an "
        "adjustment proposal (handoffs proposals list)",
        raw=raw,
        detail={"line" if isinstance(number, int) else "record": number, "entry_id": entry.id},
        object_type="time_entry",
        object_id=entry.id,
        correlation_id=correlation_for_project(entry.project_id),
        fingerprint=fingerprint("locked", entry.id, raw),
    )
