"""Pending writes kept in the hub's database, shared by every worker (``engine.uncertain``)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from handoffs.engine.uncertain import PendingWrite
from handoffs.store.tables import pending_writes

__all__ = ["StorePendingWrites"]


class StorePendingWrites:
    """:class:`~handoffs.engine.uncertain.PendingWrites` on the ``pending_writes`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, key: str) -> PendingWrite | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(pending_writes).where(pending_writes.c.key == key)).first()
        if row is None:
            return None
        return PendingWrite(row.key, row.system, row.state, row.since, row.job)

    def put(self, pending: PendingWrite) -> None:
        values = {
            "key": pending.key,
            "system": pending.system,
            "state": pending.state,
            "job": pending.job,
            "since": pending.since,
        }
        for _ in range(2):  # another worker may write the same key between delete and insert
            try:
                with self._engine.begin() as conn:
                    conn.execute(delete(pending_writes).where(pending_writes.c.key == pending.key))
                    conn.execute(insert(pending_writes).values(**values))
                return
            except IntegrityError:
                continue

    def clear(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(pending_writes).where(pending_writes.c.key == key))
