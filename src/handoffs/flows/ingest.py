"""Ingest canonical records: validate at the edge, store if newer, publish what changed.

A line that cannot be decoded or breaks a rule becomes an exception that keeps its raw
text and line number; the good lines around it are stored in the same batch.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from handoffs.domain.catalog import CanonicalRecord, decode_record
from handoffs.domain.errors import DomainError, ValidationError
from handoffs.domain.messages import TimeEntryApproved
from handoffs.domain.work import TimeEntry
from handoffs.flows.ports import Ports

__all__ = ["LoadReport", "correlation_for_project", "ingest_lines"]


def correlation_for_project(project_id: str) -> str:
    return f"project:{project_id}"


@dataclass(slots=True)
class LoadReport:
    lines: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    approvals_published: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "failed": self.failed,
            "outcomes": dict(sorted(self.outcomes.items())),
            "by_type": dict(sorted(self.by_type.items())),
            "approvals_published": self.approvals_published,
        }


def ingest_lines(
    lines: Iterable[str],
    uow_factory: Callable[[], Any],
    ports: Ports,
    *,
    source: str,
    batch_size: int = 2000,
    on_progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Load canonical JSON Lines; each batch is one transaction with its events and exceptions."""
    report = LoadReport()
    batch: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        batch.append((number, line.rstrip("\n")))
        if len(batch) >= batch_size:
            _load_batch(batch, uow_factory, ports, source, report)
            if on_progress:
                on_progress(len(batch))
            batch = []
    if batch:
        _load_batch(batch, uow_factory, ports, source, report)
        if on_progress:
            on_progress(len(batch))
    return report


def _load_batch(
    batch: list[tuple[int, str]],
    uow_factory: Callable[[], Any],
    ports: Ports,
    source: str,
    report: LoadReport,
) -> None:
    good: list[tuple[int, str, CanonicalRecord]] = []
    bad: list[tuple[int, str, ValidationError]] = []
    for number, raw in batch:
        report.lines += 1
        try:
            good.append((number, raw, decode_record(orjson.loads(raw), source)))
        except orjson.JSONDecodeError as exc:
            bad.append((number, raw, ValidationError("", f"not valid JSON: {exc.msg} at column {exc.colno}")))
        except ValidationError as exc:
            bad.append((number, raw, exc))
        except DomainError as exc:
            bad.append((number, raw, ValidationError("", str(exc))))
    with uow_factory() as uow:
        for number, raw, error in bad:
            _report_bad_line(uow, source, number, raw, error)
        report.failed += len(bad)
        by_kind: dict[str, list[tuple[int, str, CanonicalRecord]]] = {}
        for item in good:
            by_kind.setdefault("time_entry" if item[2].type == "time_entry" else "object", []).append(item)
        objects = by_kind.get("object", [])
        for result in uow.objects.upsert([r for _, _, r in objects]):
            report.outcomes[result.outcome] += 1
            report.by_type[result.record.type] += 1
        entries = by_kind.get("time_entry", [])
        raw_by_id = {r.obj.id: (n, raw) for n, raw, r in entries}
        for result in uow.time_entries.upsert([r for _, _, r in entries]):
            report.outcomes[result.outcome] += 1
            report.by_type["time_entry"] += 1
            entry: TimeEntry = result.record.obj
            if result.outcome == "locked":
                number, raw = raw_by_id[entry.id]
                _report_locked(uow, source, number, raw, entry)
            elif result.outcome in ("inserted", "updated") and entry.status == "approved":
                uow.publish(_approved(entry, result.version, ports))
                report.approvals_published += 1
        uow.commit()


def _approved(entry: TimeEntry, version: int, ports: Ports) -> TimeEntryApproved:
    return TimeEntryApproved(
        message_id=ports.ids.derive("time-entry-approved", entry.id, str(version)),
        occurred_at=entry.approved_at or ports.clock.now(),
        correlation_id=correlation_for_project(entry.project_id),
        entry_id=entry.id,
        project_id=entry.project_id,
        period=entry.period,
    )


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _report_bad_line(uow: Any, source: str, number: int, raw: str, error: ValidationError) -> None:
    uow.exceptions.add(
        category="validation",
        source=source,
        reason=f"line {number}: {error}",
        raw=raw,
        detail={"line": number, "field": error.field, "rule": error.reason},
        fingerprint=_fingerprint(source, str(number), raw),
    )


def _report_locked(uow: Any, source: str, number: int, raw: str, entry: TimeEntry) -> None:
    uow.exceptions.add(
        category="billed_entry_changed",
        source=source,
        reason=f"line {number}: time entry {entry.id} is already billed; the change was not applied",
        raw=raw,
        detail={"line": number, "entry_id": entry.id},
        object_type="time_entry",
        object_id=entry.id,
        correlation_id=correlation_for_project(entry.project_id),
        fingerprint=_fingerprint("locked", entry.id, raw),
    )
