"""Low-volume canonical objects, stored as canonical JSON with their history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, insert, select, tuple_, update

from handoffs.domain.catalog import OBJECT_TYPES, CanonicalRecord
from handoffs.store.repositories.upserts import UpsertResult, decide, source_version
from handoffs.store.serde import from_doc, to_doc
from handoffs.store.tables import object_history, objects

__all__ = ["ObjectRepository"]


@lru_cache(maxsize=16_384)
def _decoded(type_: str, doc: str) -> Any:
    """Objects are immutable, so one decoded copy of a stored document serves every reader."""
    return from_doc(OBJECT_TYPES[type_], doc)


class ObjectRepository:
    """Reads are cached for the life of the unit of work (one transaction)."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now
        self._cache: dict[tuple[str, str], Any] = {}
        self._all: dict[str, list[Any]] = {}

    def get(self, type_: str, id_: str) -> Any | None:
        key = (type_, id_)
        if key not in self._cache:
            row = self._conn.execute(
                select(objects.c.doc).where(objects.c.type == type_, objects.c.id == id_)
            ).first()
            self._cache[key] = None if row is None else _decoded(type_, row.doc)
        return self._cache[key]

    def prime(self, type_: str, ids: Iterable[str]) -> None:
        """Read the objects not read yet in one query, so that ``get`` finds them cached."""
        missing = sorted({i for i in ids if (type_, i) not in self._cache})
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            query = select(objects.c.id, objects.c.doc).where(objects.c.type == type_, objects.c.id.in_(part))
            found = {r.id: r.doc for r in self._conn.execute(query)}
            for id_ in part:
                self._cache[(type_, id_)] = _decoded(type_, found[id_]) if id_ in found else None

    def all(self, type_: str) -> list[Any]:
        """Every object of a type (cached for this unit of work until one of them is written)."""
        if type_ not in self._all:
            query = select(objects.c.doc).where(objects.c.type == type_).order_by(objects.c.id)
            self._all[type_] = [_decoded(type_, r.doc) for r in self._conn.execute(query)]
        return list(self._all[type_])

    def count(self, type_: str) -> int:
        return int(self._conn.execute(select(func.count()).where(objects.c.type == type_)).scalar_one())

    def upsert(self, records: Sequence[CanonicalRecord]) -> list[UpsertResult]:
        """Insert new objects, update newer versions, skip identical or stale ones."""
        if not records:
            return []
        keys = [(r.type, r.obj.id) for r in records]
        stored: dict[tuple[str, str], dict[str, Any]] = {
            (row.type, row.id): {
                "doc": row.doc,
                "source_version": row.source_version,
                "version": row.version,
                "_new": False,
            }
            for row in self._conn.execute(
                select(
                    objects.c.type, objects.c.id, objects.c.doc, objects.c.source_version, objects.c.version
                ).where(tuple_(objects.c.type, objects.c.id).in_(keys))
            )
        }
        results: list[UpsertResult] = []
        inserts: dict[tuple[str, str], dict[str, Any]] = {}
        updates: dict[tuple[str, str], dict[str, Any]] = {}
        for record in records:
            key = (record.type, record.obj.id)
            doc = to_doc(record.obj)
            row = stored.get(key)
            outcome = decide(row["doc"] if row else None, row["source_version"] if row else None, doc, record)
            version = row["version"] if row else 0
            if outcome in ("inserted", "updated"):
                version += 1
                values = {
                    "type": record.type,
                    "id": record.obj.id,
                    "version": version,
                    "source_system": record.source_system,
                    "source_version": source_version(record, row["source_version"] if row else None),
                    "doc": doc,
                    "_new": row is None or row["_new"],
                }
                (inserts if values["_new"] else updates)[key] = values
                stored[key] = values
                self._cache[key] = record.obj
                self._all.pop(record.type, None)
            results.append(UpsertResult(record, outcome, version))
        self._write(list(inserts.values()), list(updates.values()))
        return results

    def _write(self, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
        now = self._now
        if inserts:
            rows = [{k: v for k, v in d.items() if k != "_new"} | {"updated_at": now} for d in inserts]
            self._conn.execute(insert(objects), rows)
        for v in updates:
            self._conn.execute(
                update(objects)
                .where(objects.c.type == v["type"], objects.c.id == v["id"])
                .values(
                    **{k: v[k] for k in ("version", "source_system", "source_version", "doc")}, updated_at=now
                )
            )
        fields = ("type", "id", "version", "source_system", "source_version", "doc")
        history = [{k: v[k] for k in fields} | {"recorded_at": now} for v in (*inserts, *updates)]
        if history:
            self._conn.execute(insert(object_history), history)

    def history(self, type_: str, id_: str) -> Iterable[tuple[int, str]]:
        rows = self._conn.execute(
            select(object_history.c.version, object_history.c.doc)
            .where(object_history.c.type == type_, object_history.c.id == id_)
            .order_by(object_history.c.version)
        )
        return [(r.version, r.doc) for r in rows]
