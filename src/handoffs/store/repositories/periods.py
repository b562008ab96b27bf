"""Periods closed and reopened by a person, and the figures reported when each was closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select

from handoffs.store.tables import period_closes

__all__ = ["PeriodClose", "PeriodRepository", "read_reported"]


@dataclass(frozen=True, slots=True)
class PeriodClose:
    """One legal entity's period as a person last left it."""

    legal_entity_id: str
    period: str
    closed: bool
    closed_by: str
    closed_at: datetime
    reopened_by: str | None
    reopened_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "legal_entity_id": self.legal_entity_id,
            "period": self.period,
            "state": "closed" if self.closed else "reopened",
            "closed_by": self.closed_by,
            "closed_at": self.closed_at.isoformat(),
            "reopened_by": self.reopened_by,
            "reopened_at": self.reopened_at.isoformat() if self.reopened_at else None,
        }


class PeriodRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def all(self, legal_entity_id: str | None = None) -> list[PeriodClose]:
        c = period_closes.c
        query = select(*(col for col in period_closes.c if col.name != "reported"))
        if legal_entity_id is not None:
            query = query.where(c.legal_entity_id == legal_entity_id)
        rows = self._conn.execute(query.order_by(c.legal_entity_id, c.period))
        return [PeriodClose(**r._asdict()) for r in rows]

    def get(self, legal_entity_id: str, period: str) -> PeriodClose | None:
        return next((p for p in self.all(legal_entity_id) if p.period == period), None)

    def states(self) -> list[tuple[str, str, bool]]:
        """``(entity, period, closed)`` for every period a person closed or reopened."""
        return [(p.legal_entity_id, p.period, p.closed) for p in self.all()]

    def close(self, legal_entity_id: str, period: str, by: str, reported: dict[str, Any]) -> None:
        """Close the period, keeping ``reported`` (JSON-ready) as its figures from now on."""
        c = period_closes.c
        key = (c.legal_entity_id == legal_entity_id) & (c.period == period)
        self._conn.execute(period_closes.delete().where(key))
        self._conn.execute(
            period_closes.insert().values(
                legal_entity_id=legal_entity_id,
                period=period,
                closed=True,
                closed_by=by,
                closed_at=self._now,
                reported=orjson.dumps(reported).decode(),
            )
        )

    def reopen(self, legal_entity_id: str, period: str, by: str) -> None:
        c = period_closes.c
        key = (c.legal_entity_id == legal_entity_id) & (c.period == period)
        self._conn.execute(
            period_closes.update().where(key).values(closed=False, reopened_by=by, reopened_at=self._now)
        )


def read_reported(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    """The figures kept at close, per (entity, period), for the periods closed now."""
    c = period_closes.c
    rows = conn.execute(select(c.legal_entity_id, c.period, c.reported).where(c.closed.is_(True)))
    return {(r.legal_entity_id, r.period): orjson.loads(r.reported) for r in rows}
