"""Mapping lookups answered from the hub's store: the xref table and canonical objects."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, select

from handoffs.connectors.mapping import MISSING
from handoffs.domain.catalog import OBJECT_TYPES
from handoffs.domain.codec import encode
from handoffs.store.serde import from_doc
from handoffs.store.tables import objects, xrefs

__all__ = ["StoreLookups"]


class StoreLookups:
    """Read-only lookups with a cache; safe outside any unit of work (own short reads), or
    inside one when given its connection (a retry that re-maps within its transaction).

    Call :meth:`clear` between pulls so that links made meanwhile are seen.
    """

    def __init__(self, engine: Engine | Connection) -> None:
        self._engine = engine
        self._xref: dict[tuple[str, str, str], str | None] = {}
        self._external: dict[tuple[str, str, str], str | None] = {}
        self._objects: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._matches: dict[tuple[str, str], dict[str, list[str]]] = {}

    def _connect(self) -> AbstractContextManager[Connection]:
        if isinstance(self._engine, Connection):
            return nullcontext(self._engine)
        return self._engine.connect()

    def clear(self) -> None:
        self._xref.clear()
        self._external.clear()
        self._objects.clear()
        self._matches.clear()

    def preload_xrefs(self, system: str, canonical_type: str) -> None:
        """Load every link of one system and type at once (a pull maps thousands of records)."""
        with self._connect() as conn:
            rows = conn.execute(
                select(xrefs.c.canonical_id, xrefs.c.external_id).where(
                    xrefs.c.system == system, xrefs.c.canonical_type == canonical_type
                )
            ).all()
        for r in rows:
            self._xref[(system, canonical_type, r.external_id)] = r.canonical_id
            self._external[(system, canonical_type, r.canonical_id)] = r.external_id

    def xref(self, system: str, canonical_type: str, external_id: str) -> str | None:
        key = (system, canonical_type, external_id)
        if key not in self._xref:
            with self._connect() as conn:
                self._xref[key] = conn.execute(
                    select(xrefs.c.canonical_id).where(
                        xrefs.c.system == system,
                        xrefs.c.canonical_type == canonical_type,
                        xrefs.c.external_id == external_id,
                    )
                ).scalar_one_or_none()
        return self._xref[key]

    def external(self, system: str, canonical_type: str, canonical_id: str) -> str | None:
        key = (system, canonical_type, canonical_id)
        if self._external.get(key) is None:
            with self._connect() as conn:
                self._external[key] = conn.execute(
                    select(xrefs.c.external_id).where(
                        xrefs.c.system == system,
                        xrefs.c.canonical_type == canonical_type,
                        xrefs.c.canonical_id == canonical_id,
                    )
                ).scalar_one_or_none()
        return self._external[key]

    def remember(self, system: str, canonical_type: str, canonical_id: str, external_id: str) -> None:
        """Cache a link a connector just made (it is stored by the flow that records it)."""
        self._external[(system, canonical_type, canonical_id)] = external_id
        self._xref[(system, canonical_type, external_id)] = canonical_id

    def object_field(self, canonical_type: str, canonical_id: str, field: str) -> Any:
        key = (canonical_type, canonical_id)
        if key not in self._objects:
            with self._connect() as conn:
                doc = conn.execute(
                    select(objects.c.doc).where(
                        objects.c.type == canonical_type, objects.c.id == canonical_id
                    )
                ).scalar_one_or_none()
            self._objects[key] = None if doc is None else encode(from_doc(OBJECT_TYPES[canonical_type], doc))
        found = self._objects[key]
        if found is None or field not in found or found[field] is None:
            return MISSING
        return found[field]

    def match(self, canonical_type: str, field: str, value: str) -> list[str]:
        """Ids of the stored objects whose ``field`` equals ``value`` (case and spaces ignored).

        Identity matching declared in a mapping (``lookup: {match: resource, by: email}``):
        every object of the type is read once per pull and indexed by that field.
        """
        key = (canonical_type, field)
        if key not in self._matches:
            index: dict[str, list[str]] = {}
            with self._connect() as conn:
                rows = conn.execute(
                    select(objects.c.id, objects.c.doc).where(objects.c.type == canonical_type)
                ).all()
            for row in rows:
                found = getattr(from_doc(OBJECT_TYPES[canonical_type], row.doc), field, None)
                if found is not None:
                    index.setdefault(_folded(found), []).append(row.id)
            self._matches[key] = index
        return sorted(self._matches[key].get(_folded(value), []))


def _folded(value: Any) -> str:
    return str(value).strip().casefold()
