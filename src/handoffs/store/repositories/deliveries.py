"""Deliveries: one outbound call per idempotency key, and its confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoffs.store.tables import deliveries

__all__ = ["Delivery", "DeliveryRepository"]


@dataclass(frozen=True, slots=True)
class Delivery:
    idempotency_key: str
    system: str
    operation: str
    object_type: str
    object_id: str
    status: str
    attempts: int
    external_id: str | None


class DeliveryRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def ensure(self, key: str, system: str, operation: str, object_type: str, object_id: str) -> bool:
        """Create the pending delivery unless it exists; True when it was created now."""
        ins = pg_insert(deliveries) if self._conn.dialect.name == "postgresql" else sqlite_insert(deliveries)
        stmt = ins.values(
            idempotency_key=key,
            system=system,
            operation=operation,
            object_type=object_type,
            object_id=object_id,
            status="pending",
            attempts=0,
            created_at=self._now,
        ).on_conflict_do_nothing()
        return self._conn.execute(stmt.returning(deliveries.c.idempotency_key)).first() is not None

    def get(self, key: str) -> Delivery | None:
        row = self._conn.execute(select(deliveries).where(deliveries.c.idempotency_key == key)).first()
        if row is None:
            return None
        return Delivery(
            row.idempotency_key,
            row.system,
            row.operation,
            row.object_type,
            row.object_id,
            row.status,
            row.attempts,
            row.external_id,
        )

    def confirm(self, key: str, external_id: str) -> None:
        self._conn.execute(
            update(deliveries)
            .where(deliveries.c.idempotency_key == key)
            .values(
                status="confirmed",
                external_id=external_id,
                confirmed_at=self._now,
                attempts=deliveries.c.attempts + 1,
                last_error=None,
            )
        )

    def failed_attempt(self, key: str, error: str, *, final: bool) -> None:
        self._conn.execute(
            update(deliveries)
            .where(deliveries.c.idempotency_key == key)
            .values(
                attempts=deliveries.c.attempts + 1,
                last_error=error[:2000],
                status="failed" if final else "pending",
            )
        )

    def for_object(self, object_type: str, object_id: str) -> list[dict[str, object]]:
        rows = self._conn.execute(
            select(deliveries).where(
                deliveries.c.object_type == object_type, deliveries.c.object_id == object_id
            )
        )
        return [{str(k): v for k, v in r._mapping.items()} for r in rows]

    def count_by_status(self) -> dict[str, int]:
        rows = self._conn.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
        return {r[0]: int(r[1]) for r in rows}
