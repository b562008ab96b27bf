"""One incremental pull: fetch since the stored cursor minus an overlap, map, dedupe, ingest.

    cursor (position, keys seen near it) ──► connector.fetch(resource, since=position - overlap)
      ──► drop records already seen with the same version (boundary) or twice in this pull
      ──► mapping ──► SourceRecord, or an exception naming system, record, field and rule
      ──► flows.ingest.ingest_records (one transaction per batch) ──► save the new cursor

The cursor is written only after every batch is stored: a pull that dies half-way is
simply repeated, and the store's version rules make the repeat change nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from handoffs.connectors.base import SourceConnector
from handoffs.connectors.mapping import (
    MappingFailure,
    MappingSpec,
    apply_mapping,
    get_path,
    record_key,
    record_updated,
)
from handoffs.connectors.mapping.engine import MISSING, to_canonical_json
from handoffs.connectors.secrets import REDACTOR
from handoffs.flows.ingest import LoadReport, SourceRecord, ingest_records
from handoffs.flows.ports import Ports
from handoffs.store.repositories.cursors import CursorRepository, StoredCursor
from handoffs.sync.lookups import StoreLookups

__all__ = ["PullReport", "PullRunner", "parse_version", "source_record"]


@dataclass(slots=True)
class PullReport:
    system: str
    resource: str
    fetched: int = 0
    pages: int = 0
    duplicates: int = 0
    already_seen: int = 0
    mapped: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    load: LoadReport = field(default_factory=LoadReport)
    position: str | None = None
    record_ids: set[str] = field(default_factory=set)
    label: str = "pull"

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "resource": self.resource,
            "fetched": self.fetched,
            "pages": self.pages,
            "duplicates": self.duplicates,
            "already_seen": self.already_seen,
            "mapped": self.mapped,
            "failed": self.failed,
            "failures": dict(self.failures),
            "outcomes": dict(self.load.outcomes),
            "position": self.position,
        }


def parse_version(value: Any) -> datetime | None:
    """A record's update stamp as an aware datetime, or None when it is not one."""
    if value is MISSING or value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def source_record(
    spec: MappingSpec,
    record: dict[str, Any],
    mapped: dict[str, Any],
    system: str,
    resource: str,
    moment: datetime | None,
) -> SourceRecord:
    """A mapped record ready to ingest, with its raw text kept (also used to re-map a held one)."""
    key = record_key(spec, record) or "?"
    data = {"type": spec.canonical, **to_canonical_json(mapped), "source_system": system}
    if moment is not None:
        data["source_version"] = moment.astimezone(UTC).isoformat()
    return SourceRecord(f"{system} {resource} {key}", _raw(record), data, key, spec.link_only)


def _raw(record: dict[str, Any]) -> str:
    text = orjson.dumps(record, default=lambda v: str(v) if isinstance(v, Decimal) else repr(v)).decode()
    return REDACTOR.redact(text)


class PullRunner:
    """Runs pulls for any source connector; cursors live in ``connector_cursors``.

    Args:
        overlap: how far before the stored position each pull starts again, so that records
            written late with an earlier stamp, or sharing the boundary stamp, are not missed.
        batch_size: records per ingest transaction.
    """

    def __init__(
        self,
        uow_factory: Callable[[], Any],
        ports: Ports,
        lookups: StoreLookups,
        *,
        overlap: timedelta = timedelta(minutes=10),
        batch_size: int = 1000,
    ) -> None:
        self.uow_factory, self.ports, self.lookups = uow_factory, ports, lookups
        self.overlap, self.batch_size = overlap, batch_size

    def cursor(self, system: str, resource: str) -> StoredCursor:
        with self.uow_factory() as uow:
            return CursorRepository(uow.connection, uow.now).get(system, resource)

    def pull(
        self,
        connector: SourceConnector,
        resource: str,
        spec: MappingSpec,
        *,
        on_page: Callable[[int], None] | None = None,
    ) -> PullReport:
        """Pull ``resource`` from ``connector`` once; returns what happened."""
        system = connector.system
        report = PullReport(system, resource)
        stored = self.cursor(system, resource)
        start = parse_version(stored.position)
        since = start - self.overlap if start else None
        seen_now: dict[str, str] = {}
        baseline: set[str] = set()
        batch: list[SourceRecord] = []
        failures: list[dict[str, Any]] = []
        newest = start
        source = f"{system}:{resource}"
        self.lookups.clear()
        for page in connector.fetch(resource, since):
            report.pages += 1
            page_failures: list[tuple[MappingFailure, dict[str, Any]]] = []
            for record in page:
                report.fetched += 1
                key = record_key(spec, record) or "?"
                stamp = get_path(record, spec.updated) if spec.updated else None
                version = None if stamp is MISSING or stamp is None else str(stamp)
                moment = record_updated(spec, record)
                if moment and (newest is None or moment > newest):
                    newest = moment
                if key in seen_now and seen_now[key] == (version or ""):
                    report.duplicates += 1
                    continue
                if version is not None and stored.seen.get(key) == version:
                    report.already_seen += 1
                    continue
                report.record_ids.add(key)
                try:
                    mapped = apply_mapping(spec, record, system, self.lookups)
                except MappingFailure as problem:
                    page_failures.append((problem, record))
                    continue
                if not baseline:
                    baseline = set(record)
                seen_now[key] = version or ""
                batch.append(source_record(spec, record, mapped, system, resource, moment))
                report.mapped += 1
            systematic = _systematic(page_failures, len(page))
            for failure, record in page_failures:
                drift = failure.field in systematic
                failures.append(self._failure(failure, record, baseline, source, resource, drift))
                report.failed += 1
                report.failures[failures[-1]["category"]] += 1
            if len(batch) + len(failures) >= self.batch_size:
                self._flush(batch, failures, source, report)
                batch, failures = [], []
            if on_page:
                on_page(len(page))
        self._flush(batch, failures, source, report)
        self._save(system, resource, stored, seen_now, newest, report)
        commit = getattr(connector, "commit", None)
        if commit is not None:  # e.g. a folder source archives the files it has read
            commit(resource)
        return report

    def _flush(
        self, batch: list[SourceRecord], failures: list[dict[str, Any]], source: str, report: PullReport
    ) -> None:
        if batch or failures:
            ingest_records(
                batch, self.uow_factory, self.ports, source=source, failures=failures, report=report.load
            )

    def _save(
        self,
        system: str,
        resource: str,
        stored: StoredCursor,
        seen_now: dict[str, str],
        newest: datetime | None,
        report: PullReport,
    ) -> None:
        floor = newest - self.overlap if newest else None

        def keep(version: str) -> bool:
            moment = parse_version(version)
            return moment is not None and floor is not None and moment >= floor

        seen = {k: v for k, v in {**stored.seen, **seen_now}.items() if keep(v)}
        position = newest.astimezone(UTC).isoformat() if newest else stored.position
        report.position = position
        with self.uow_factory() as uow:
            CursorRepository(uow.connection, uow.now).save(
                system, resource, StoredCursor(position, seen, stored.pulls + 1)
            )
            uow.commit()

    @staticmethod
    def _failure(
        failure: MappingFailure,
        record: dict[str, Any],
        baseline: set[str],
        source: str,
        resource: str,
        systematic: bool,
    ) -> dict[str, Any]:
        added = sorted(set(record) - baseline) if baseline else []
        drift = failure.rule == "required" and "missing" in failure.reason and (bool(added) or systematic)
        reason = str(failure)
        if drift:
            new = f"; fields this mapping has not seen: {', '.join(added)}" if added else ""
            reason += f"{new} (schema drift: the system changed its record shape)"
        raw = _raw(record)
        return {
            "category": "schema_drift" if drift else "mapping",
            "source": source,
            "reason": reason,
            "raw": raw,
            "detail": {
                "system": failure.system,
                "resource": resource,
                "record_id": failure.record_id,
                "field": failure.field,
                "rule": failure.rule,
                **({"new_fields": added} if drift else {}),
            },
            "fingerprint": hashlib.sha256(f"{source}\x1f{failure.record_id}\x1f{raw}".encode()).hexdigest()[
                :32
            ],
        }


def _systematic(failures: list[tuple[MappingFailure, dict[str, Any]]], page_size: int) -> set[str]:
    """Fields missing from most of a page: a changed shape (drift), not one damaged record."""
    counts: Counter[str] = Counter(
        f.field for f, _ in failures if f.rule == "required" and "missing" in f.reason
    )
    return {name for name, n in counts.items() if n >= 2 and n * 2 >= page_size}
