"""Ingest canonical records: validate at the edge, store if newer, publish what changed.

A line that cannot be decoded or breaks a rule becomes an exception that keeps its raw
text and line number; the good lines around it are stored in the same batch. A line that is
not UTF-8 (given as bytes) is such a line too: its raw bytes are kept, escaped (``\\xe9``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from handoffs.domain.catalog import CanonicalRecord, decode_record
from handoffs.domain.codec import encode
from handoffs.domain.errors import DomainError, ValidationError
from handoffs.domain.messages import BilledTimeChanged, ContractAmended, TimeEntryApproved
from handoffs.domain.work import ResourceRequest, TimeEntry
from handoffs.flows.ingest_reports import (
    correlation_for_project,
    fingerprint,
    report_bad_line,
    report_locked,
)
from handoffs.flows.invoice_import import load_invoices
from handoffs.flows.ports import Ports
from handoffs.flows.staffing import request_staffing

__all__ = [
    "LoadReport",
    "Provenance",
    "SourceRecord",
    "correlation_for_project",
    "ingest_lines",
    "ingest_records",
    "store_records",
]

# Who says where a record came from: "record" - its own envelope (a file, a connector's
# mapping); "sender" - the authenticated system that sent it, with that system's versions (a
# signed webhook); "client" - an API client, whose writes the hub versions (never the body).
Provenance = Literal["record", "sender", "client"]


def _decode(data: Any, source: str, provenance: Provenance) -> CanonicalRecord:
    record = decode_record(data, source)
    if provenance == "record":
        return record
    client = provenance == "client"
    version = None if client else record.source_version
    return replace(record, source_system=source, source_version=version, hub_versioned=client)


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


def _text(number: int, line: str | bytes) -> tuple[str, ValidationError | None]:
    """The line as text, or its bytes escaped and why it is not UTF-8."""
    if isinstance(line, str):
        return line, None
    if number == 1:
        line = line.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is not part of the data
    try:
        return line.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        escaped = line.decode("utf-8", "backslashreplace")
        why = f"not UTF-8: byte 0x{line[exc.start]:02x} at column {exc.start + 1} (kept escaped as \\x..)"
        return escaped, ValidationError("", why)


def ingest_lines(
    lines: Iterable[str | bytes],
    uow_factory: Callable[[], Any],
    ports: Ports,
    *,
    source: str,
    batch_size: int = 2000,
    on_progress: Callable[[int], None] | None = None,
    provenance: Provenance = "record",
) -> LoadReport:
    """Load canonical JSON Lines; each batch is one transaction with its events and exceptions.

    Lines may be text or bytes (read in binary, so that a line that is not UTF-8 becomes one
    exception instead of stopping the file). With ``provenance`` other than ``"record"``,
    every record's system is ``source``.
    """
    report = LoadReport()
    batch: list[tuple[int, str, ValidationError | None]] = []
    for number, line in enumerate(lines, start=1):
        text, undecodable = _text(number, line)
        if not text.strip():
            continue
        batch.append((number, text.rstrip("\r\n"), undecodable))
        if len(batch) >= batch_size:
            _load_batch(batch, uow_factory, ports, source, report, provenance)
            if on_progress:
                on_progress(len(batch))
            batch = []
    if batch:
        _load_batch(batch, uow_factory, ports, source, report, provenance)
        if on_progress:
            on_progress(len(batch))
    return report


def _load_batch(
    batch: list[tuple[int, str, ValidationError | None]],
    uow_factory: Callable[[], Any],
    ports: Ports,
    source: str,
    report: LoadReport,
    provenance: Provenance,
) -> None:
    good: list[tuple[int, str, CanonicalRecord]] = []
    bad: list[tuple[int, str, ValidationError]] = []
    for number, raw, undecodable in batch:
        report.lines += 1
        if undecodable is not None:
            bad.append((number, raw, undecodable))
            continue
        try:
            good.append((number, raw, _decode(orjson.loads(raw), source, provenance)))
        except orjson.JSONDecodeError as exc:
            bad.append((number, raw, ValidationError("", f"not valid JSON: {exc.msg} at column {exc.colno}")))
        except ValidationError as exc:
            bad.append((number, raw, exc))
        except DomainError as exc:
            bad.append((number, raw, ValidationError("", str(exc))))
    with uow_factory() as uow:
        for number, raw, error in bad:
            report_bad_line(uow, source, number, raw, error)
        report.failed += len(bad)
        _store(uow, good, ports, source, report)
        uow.commit()


def _store(
    uow: Any, good: list[tuple[Any, str, CanonicalRecord]], ports: Ports, source: str, report: LoadReport
) -> None:
    """Upsert decoded records and publish approvals (inside the caller's transaction)."""
    for screen in ports.screens:  # ownership and policy screens: a rejection becomes an exception
        kept = screen(uow, good, ports, source)
        if len(kept) < len(good):
            report.outcomes["rejected"] += len(good) - len(kept)
        good = kept
    by_kind: dict[str, list[tuple[Any, str, CanonicalRecord]]] = {}
    for item in good:
        kind = item[2].type if item[2].type in ("time_entry", "invoice") else "object"
        by_kind.setdefault(kind, []).append(item)
    objects = by_kind.get("object", [])
    requests: list[tuple[ResourceRequest, int]] = []
    for result in uow.objects.upsert([r for _, _, r in objects]):
        report.outcomes[result.outcome] += 1
        report.by_type[result.record.type] += 1
        if result.record.type == "contract" and result.outcome == "updated":
            uow.publish(_amended(result.record.obj.id, result.version, ports))
        elif result.record.type == "resource_request" and result.outcome in ("inserted", "updated"):
            requests.append((result.record.obj, result.version))
    if requests:  # a request naming a resource goes to the staffing check
        request_staffing(uow, ports, requests)
    entries = by_kind.get("time_entry", [])
    raw_by_id = {r.obj.id: (n, raw) for n, raw, r in entries}
    for result in uow.time_entries.upsert([r for _, _, r in entries]):
        report.outcomes[result.outcome] += 1
        report.by_type["time_entry"] += 1
        entry: TimeEntry = result.record.obj
        if result.outcome == "locked":
            number, raw = raw_by_id[entry.id]
            report_locked(uow, source, number, raw, entry)
            uow.publish(_billed_changed(entry, raw, ports))
        elif result.outcome in ("inserted", "updated") and entry.status == "approved":
            uow.publish(_approved(entry, result.version, ports))
            report.approvals_published += 1
    load_invoices(uow, source, by_kind.get("invoice", []), report)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record a connector pulled, already mapped to canonical JSON.

    Attributes:
        ref: where it came from, e.g. ``harvest time_entries 2000000042`` (used in exceptions).
        raw: the system's record as it arrived, kept whole in any exception.
        data: ``{"type", **canonical fields, "source_system", "source_version"}``.
    """

    ref: str
    raw: str
    data: dict[str, Any]
    external_id: str | None = None  # the record's id in its system: linked in the xref table
    link_only: bool = False  # only link ids (identity records another system owns)


def ingest_records(
    records: Sequence[SourceRecord],
    uow_factory: Callable[[], Any],
    ports: Ports,
    *,
    source: str,
    failures: Sequence[dict[str, Any]] = (),
    report: LoadReport | None = None,
    provenance: Provenance = "record",
) -> LoadReport:
    """Store mapped connector records and the mapping failures of the same pull in one transaction.

    ``failures`` are exception fields (category, reason, raw, detail...) the connector layer
    built for records it could not map; a canonical rule broken here becomes a ``validation``
    exception naming the record, the field and the rule, with the raw record kept.
    """
    report = report or LoadReport()
    with uow_factory() as uow:
        store_records(
            uow, records, ports, source=source, failures=failures, report=report, provenance=provenance
        )
        uow.commit()
    return report


def store_records(
    uow: Any,
    records: Sequence[SourceRecord],
    ports: Ports,
    *,
    source: str,
    failures: Sequence[dict[str, Any]] = (),
    report: LoadReport | None = None,
    provenance: Provenance = "record",
) -> LoadReport:
    """:func:`ingest_records` inside the caller's transaction (the caller commits)."""
    report = report or LoadReport()
    good: list[tuple[Any, str, CanonicalRecord]] = []
    for failure in failures:
        uow.exceptions.add(**failure)
    report.failed += len(failures)
    for item in records:
        report.lines += 1
        if item.link_only:
            _link(uow, item)
            continue
        try:
            good.append((item.ref, item.raw, _decode(item.data, source, provenance)))
        except DomainError as exc:
            error = exc if isinstance(exc, ValidationError) else ValidationError("", str(exc))
            report.failed += 1
            uow.exceptions.add(
                category="validation",
                source=source,
                reason=f"{item.ref}: field {error.field!r} broke rule: {error.reason}",
                raw=item.raw,
                detail={"record": item.ref, "field": error.field, "rule": error.reason},
                object_type=str(item.data.get("type")),
                object_id=str(item.data.get("id")),
                fingerprint=fingerprint("validation", item.ref, item.raw),
            )
    report.lines += len(failures)
    for item in records:
        if item.external_id is not None and not item.link_only:
            _link(uow, item)
    _store(uow, good, ports, source, report)
    return report


def _billed_changed(entry: TimeEntry, raw: str, ports: Ports) -> BilledTimeChanged:
    return BilledTimeChanged(
        message_id=ports.ids.derive("billed-time-changed", entry.id, fingerprint(raw)),
        occurred_at=ports.clock.now(),
        correlation_id=correlation_for_project(entry.project_id),
        entry_id=entry.id,
        entry=orjson.dumps(encode(entry), option=orjson.OPT_SORT_KEYS).decode(),
    )


def _amended(contract_id: str, version: int, ports: Ports) -> ContractAmended:
    return ContractAmended(
        message_id=ports.ids.derive("contract-amended", contract_id, str(version)),
        occurred_at=ports.clock.now(),
        correlation_id=f"contract:{contract_id}",
        contract_id=contract_id,
        version=version,
    )


def _approved(entry: TimeEntry, version: int, ports: Ports) -> TimeEntryApproved:
    return TimeEntryApproved(
        message_id=ports.ids.derive("time-entry-approved", entry.id, str(version)),
        occurred_at=entry.approved_at or ports.clock.now(),
        correlation_id=correlation_for_project(entry.project_id),
        entry_id=entry.id,
        project_id=entry.project_id,
        period=entry.period,
    )


def _link(uow: Any, item: SourceRecord) -> None:
    system = item.data.get("source_system")
    if item.external_id is not None and isinstance(system, str) and item.data.get("id"):
        uow.xrefs.link(str(item.data["type"]), str(item.data["id"]), system, item.external_id)
