"""Time entries: typed rows with their billing state, so pricing and billing are set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, update

from handoffs.domain.catalog import CanonicalRecord
from handoffs.domain.codec import decode
from handoffs.domain.money import Money
from handoffs.domain.pricing import PricedEntry
from handoffs.domain.work import TimeEntry
from handoffs.store.bulk import insert_many, update_many
from handoffs.store.repositories.upserts import UpsertResult, decide, source_version
from handoffs.store.serde import from_doc, to_doc
from handoffs.store.tables import time_entries as te

__all__ = ["StoredEntry", "TimeEntryRepository"]

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredEntry:
    entry: TimeEntry
    billing_state: str
    version: int


class TimeEntryRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def upsert(self, records: Sequence[CanonicalRecord]) -> list[UpsertResult]:
        """Insert, update-if-newer or skip each entry. A change to a billed entry is ``locked``."""
        stored = self._stored([r.obj.id for r in records])
        results: list[UpsertResult] = []
        inserts: dict[str, dict[str, Any]] = {}
        updates: dict[str, dict[str, Any]] = {}
        for record in records:
            entry: TimeEntry = record.obj
            doc = to_doc(entry)
            row = stored.get(entry.id)
            outcome = decide(row["doc"] if row else None, row["source_version"] if row else None, doc, record)
            if outcome == "updated" and row and row["billing_state"] == "billed":
                outcome = "locked"
            version = row["version"] if row else 0
            if outcome in ("inserted", "updated"):
                version += 1
                values = _values(entry, record, doc, version)
                values["source_version"] = source_version(record, row["source_version"] if row else None)
                values["_new"] = row is None or row["_new"]
                (inserts if values["_new"] else updates)[entry.id] = values
                stored[entry.id] = values
            previous = from_doc(TimeEntry, row["doc"]) if row and outcome in ("updated", "locked") else None
            results.append(UpsertResult(record, outcome, version, previous))
        self._write(list(inserts.values()), list(updates.values()))
        return results

    def _stored(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        stored: dict[str, dict[str, Any]] = {}
        cols = (te.c.id, te.c.doc, te.c.source_version, te.c.version, te.c.billing_state)
        for i in range(0, len(ids), _CHUNK):
            for row in self._conn.execute(select(*cols).where(te.c.id.in_(ids[i : i + _CHUNK]))):
                stored[row.id] = {**row._asdict(), "_new": False}
        return stored

    def _write(self, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
        now = self._now
        if inserts:
            pick = itemgetter(*_INSERTED)
            insert_many(self._conn, te, _INSERTED, [pick(d) for d in inserts], {"updated_at": now})
        if updates:
            pick = itemgetter(*_UPDATED, "id")
            update_many(self._conn, te, "id", _UPDATED, [pick(d) for d in updates], {"updated_at": now})

    def get(self, entry_id: str) -> StoredEntry | None:
        row = self._conn.execute(
            select(te.c.doc, te.c.billing_state, te.c.version).where(te.c.id == entry_id)
        ).first()
        return (
            None if row is None else StoredEntry(from_doc(TimeEntry, row.doc), row.billing_state, row.version)
        )

    def get_many(self, entry_ids: Sequence[str]) -> dict[str, StoredEntry]:
        found: dict[str, StoredEntry] = {}
        for i in range(0, len(entry_ids), _CHUNK):
            rows = self._conn.execute(
                select(te.c.id, te.c.doc, te.c.billing_state, te.c.version).where(
                    te.c.id.in_(entry_ids[i : i + _CHUNK])
                )
            )
            for r in rows:
                found[r.id] = StoredEntry(from_doc(TimeEntry, r.doc), r.billing_state, r.version)
        return found

    def meta(self, entry_id: str) -> dict[str, Any] | None:
        """Where the stored entry came from and where it stands."""
        row = self._conn.execute(
            select(
                te.c.source_system,
                te.c.source_version,
                te.c.version,
                te.c.billing_state,
                te.c.recognised_by,
                te.c.rate,
                te.c.rate_card_version,
            ).where(te.c.id == entry_id)
        ).first()
        return None if row is None else {str(k): v for k, v in row._mapping.items()}

    def apply_held_change(self, entry: TimeEntry) -> None:
        """Apply a change to billed time that a person approved with its credit-and-rebill."""
        row = self._stored([entry.id])[entry.id]
        priced = self._conn.execute(
            select(te.c.role, te.c.rate, te.c.currency, te.c.rate_card_version).where(te.c.id == entry.id)
        ).one()
        values = _values(
            entry,
            CanonicalRecord("time_entry", entry, "handoffs", row["source_version"]),
            to_doc(entry),
            row["version"] + 1,
        )
        values["billing_state"] = row["billing_state"]
        if entry.role is None:  # keep the role it was priced as, so it can be billed again
            values.update(priced._asdict())
        self._write([], [values])

    def set_priced(self, entry_id: str, priced: PricedEntry) -> None:
        self._conn.execute(
            update(te)
            .where(te.c.id == entry_id)
            .values(
                billing_state="priced",
                rate=priced.rate.amount,
                currency=priced.rate.currency,
                role=priced.role,
                rate_card_version=priced.rate_card_version,
            )
        )

    def set_priced_many(self, priced: Sequence[PricedEntry]) -> None:
        rows = [(p.rate.amount, p.rate.currency, p.role, p.rate_card_version, p.entry_id) for p in priced]
        update_many(self._conn, te, "id", _PRICED, rows, {"billing_state": "priced"})

    def set_state(self, entry_ids: Sequence[str], state: str) -> None:
        for i in range(0, len(entry_ids), _CHUNK):
            self._conn.execute(
                update(te).where(te.c.id.in_(entry_ids[i : i + _CHUNK])).values(billing_state=state)
            )

    def _candidates(self, project_id: str, last_day: date) -> Any:
        return (
            te.c.project_id == project_id,
            te.c.work_date <= last_day,
            te.c.status == "approved",
            te.c.billable.is_(True),
            te.c.billing_state == "priced",
        )

    def billing_candidates(self, project_id: str, last_day: date) -> list[TimeEntry]:
        """Approved billable entries of a project worked up to ``last_day`` and not yet billed."""
        rows = self._conn.execute(
            select(te.c.doc, te.c.role)
            .where(*self._candidates(project_id, last_day))
            .order_by(te.c.work_date, te.c.id)
        )
        entries = []
        for r in rows:  # the priced role joins the document before it is built: one build per entry
            doc = orjson.loads(r.doc)
            if not doc.get("role") and r.role:
                doc["role"] = r.role
            entries.append(decode(TimeEntry, doc))
        return entries

    def has_billing_candidates(self, project_id: str, last_day: date) -> bool:
        query = select(te.c.id).where(*self._candidates(project_id, last_day)).limit(1)
        return self._conn.execute(query).first() is not None

    def has_unrecognised(self, project_id: str, last_day: date) -> bool:
        query = select(te.c.id).where(*self._unrecognised(project_id, last_day)).limit(1)
        return self._conn.execute(query).first() is not None

    def _unrecognised(self, project_id: str, last_day: date) -> Any:
        return (
            te.c.project_id == project_id,
            te.c.work_date <= last_day,
            te.c.billing_state.in_(("priced", "billed")),
            te.c.recognised_by.is_(None),
        )

    def unrecognised(self, project_id: str, last_day: date) -> list[PricedEntry]:
        """Priced time of a project worked up to ``last_day`` whose revenue is not recognised yet."""
        rows = self._conn.execute(
            select(
                te.c.id,
                te.c.resource_id,
                te.c.role,
                te.c.work_date,
                te.c.hours,
                te.c.rate,
                te.c.currency,
                te.c.rate_card_version,
            )
            .where(*self._unrecognised(project_id, last_day))
            .order_by(te.c.work_date, te.c.id)
        )
        return [
            PricedEntry(
                r.id,
                r.resource_id,
                r.role,
                r.work_date,
                r.hours,
                Money(r.rate, r.currency),
                r.rate_card_version,
            )
            for r in rows
        ]

    def mark_recognised(self, entry_ids: Sequence[str], event_id: str) -> None:
        for i in range(0, len(entry_ids), _CHUNK):
            self._conn.execute(
                update(te).where(te.c.id.in_(entry_ids[i : i + _CHUNK])).values(recognised_by=event_id)
            )

    def approved_for_project(self, project_id: str) -> list[TimeEntry]:
        rows = self._conn.execute(
            select(te.c.doc).where(te.c.project_id == project_id, te.c.status == "approved").order_by(te.c.id)
        )
        return [from_doc(TimeEntry, r.doc) for r in rows]

    def count_by_state(self) -> dict[str, int]:
        rows = self._conn.execute(select(te.c.billing_state, func.count()).group_by(te.c.billing_state))
        return {r[0]: int(r[1]) for r in rows}

    def approved_billable_hours(self) -> Decimal:
        rows = self._conn.execute(
            select(te.c.hours).where(te.c.status == "approved", te.c.billable.is_(True))
        )
        return sum((r.hours for r in rows), Decimal(0))


_INSERTED = (
    "id",
    "project_id",
    "resource_id",
    "work_date",
    "period",
    "hours",
    "billable",
    "status",
    "billing_state",
    "rate",
    "currency",
    "role",
    "rate_card_version",
    "version",
    "source_system",
    "source_version",
    "doc",
)
_UPDATED = _INSERTED[1:]
_PRICED = ("rate", "currency", "role", "rate_card_version")


def _values(entry: TimeEntry, record: CanonicalRecord, doc: str, version: int) -> dict[str, Any]:
    return {
        "id": entry.id,
        "project_id": entry.project_id,
        "resource_id": entry.resource_id,
        "work_date": entry.work_date,
        "period": entry.period,
        "hours": entry.hours,
        "billable": entry.billable,
        "status": entry.status,
        "billing_state": "unpriced",
        "rate": None,
        "currency": None,
        "role": None,
        "rate_card_version": None,
        "version": version,
        "source_system": record.source_system,
        "source_version": record.source_version,
        "doc": doc,
    }
