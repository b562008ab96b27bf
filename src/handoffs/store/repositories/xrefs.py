"""Cross-references: the id of each canonical object in every system."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoffs.store.tables import xrefs

__all__ = ["XrefRepository"]


class XrefRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def link(self, canonical_type: str, canonical_id: str, system: str, external_id: str) -> None:
        """Record (or move) the external id of a canonical object in ``system``."""
        ins = pg_insert(xrefs) if self._conn.dialect.name == "postgresql" else sqlite_insert(xrefs)
        stmt = ins.values(
            canonical_type=canonical_type,
            canonical_id=canonical_id,
            system=system,
            external_id=external_id,
            updated_at=self._now,
        ).on_conflict_do_nothing()
        # rowcount is not reliable for ON CONFLICT on every driver; RETURNING is.
        if self._conn.execute(stmt.returning(xrefs.c.canonical_id)).first() is None:
            self._conn.execute(
                update(xrefs)
                .where(
                    xrefs.c.canonical_type == canonical_type,
                    xrefs.c.canonical_id == canonical_id,
                    xrefs.c.system == system,
                )
                .values(external_id=external_id, updated_at=self._now)
            )

    def external_id(self, canonical_type: str, canonical_id: str, system: str) -> str | None:
        return self._conn.execute(
            select(xrefs.c.external_id).where(
                xrefs.c.canonical_type == canonical_type,
                xrefs.c.canonical_id == canonical_id,
                xrefs.c.system == system,
            )
        ).scalar_one_or_none()

    def canonical_id(self, system: str, canonical_type: str, external_id: str) -> str | None:
        return self._conn.execute(
            select(xrefs.c.canonical_id).where(
                xrefs.c.system == system,
                xrefs.c.canonical_type == canonical_type,
                xrefs.c.external_id == external_id,
            )
        ).scalar_one_or_none()

    def for_object(self, canonical_type: str, canonical_id: str) -> dict[str, str]:
        rows = self._conn.execute(
            select(xrefs.c.system, xrefs.c.external_id).where(
                xrefs.c.canonical_type == canonical_type, xrefs.c.canonical_id == canonical_id
            )
        )
        return {r.system: r.external_id for r in rows}
