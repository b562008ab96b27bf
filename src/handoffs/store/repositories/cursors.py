"""Cursors of incremental pulls: one high-water mark per connector and resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoffs.store.tables import connector_cursors

__all__ = ["CursorRepository", "CursorRow", "StoredCursor"]


@dataclass(frozen=True, slots=True)
class StoredCursor:
    """Where the last pull stopped, and the records it saw inside the overlap window."""

    position: str | None = None
    seen: dict[str, str] = field(default_factory=dict)  # record key -> its version
    pulls: int = 0


@dataclass(frozen=True, slots=True)
class CursorRow:
    connector: str
    resource: str
    position: str | None
    seen: int  # record keys kept from the overlap window
    pulls: int
    updated_at: datetime | None


class CursorRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def get(self, connector: str, resource: str) -> StoredCursor:
        row = self._conn.execute(
            select(connector_cursors.c.position, connector_cursors.c.seen, connector_cursors.c.pulls).where(
                connector_cursors.c.connector == connector, connector_cursors.c.resource == resource
            )
        ).first()
        if row is None:
            return StoredCursor()
        return StoredCursor(row.position, orjson.loads(row.seen), row.pulls)

    def save(self, connector: str, resource: str, cursor: StoredCursor) -> None:
        values = {
            "position": cursor.position,
            "seen": orjson.dumps(cursor.seen, option=orjson.OPT_SORT_KEYS).decode(),
            "pulls": cursor.pulls,
            "updated_at": self._now,
        }
        ins = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        stmt = ins(connector_cursors).values(connector=connector, resource=resource, **values)
        if self._conn.execute(stmt.on_conflict_do_nothing()).rowcount == 0:
            self._conn.execute(
                update(connector_cursors)
                .where(connector_cursors.c.connector == connector, connector_cursors.c.resource == resource)
                .values(**values)
            )

    def rows(self, connector: str | None = None) -> list[CursorRow]:
        """Every cursor (of one connector), for people: position, pulls, keys kept, last change."""
        c = connector_cursors.c
        query = select(connector_cursors).order_by(c.connector, c.resource)
        if connector is not None:
            query = query.where(c.connector == connector)
        return [
            CursorRow(r.connector, r.resource, r.position, len(orjson.loads(r.seen)), r.pulls, r.updated_at)
            for r in self._conn.execute(query)
        ]

    def all(self) -> dict[tuple[str, str], StoredCursor]:
        rows = self._conn.execute(select(connector_cursors))
        return {
            (r.connector, r.resource): StoredCursor(r.position, orjson.loads(r.seen), r.pulls) for r in rows
        }
