"""Policy decisions: what was decided for each record version, under which policy version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from handoffs.store.tables import policy_decisions as pd

__all__ = ["PolicyDecisionRepository", "StoredDecision"]


@dataclass(frozen=True, slots=True)
class StoredDecision:
    record_type: str
    record_id: str
    record_version: str
    project_id: str | None
    period: str | None
    policy: str | None
    policy_version: int | None
    outcome: str
    rule: str
    reason: str

    @property
    def policy_ref(self) -> str:
        return f"{self.policy}@v{self.policy_version}" if self.policy else "none"


class PolicyDecisionRepository:
    """A decision is written once per record version and never changed."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def get(self, record_type: str, record_id: str, record_version: str) -> StoredDecision | None:
        row = self._conn.execute(
            select(pd).where(
                pd.c.record_type == record_type,
                pd.c.record_id == record_id,
                pd.c.record_version == record_version,
            )
        ).first()
        return None if row is None else _decision(row)

    def record(self, **fields: Any) -> StoredDecision:
        """Store a decision unless this record version has one; returns the one that stands."""
        found = self.get(fields["record_type"], fields["record_id"], fields["record_version"])
        if found is not None:
            return found
        self._conn.execute(insert(pd).values(**fields, decided_at=self._now))
        return StoredDecision(**{k: fields.get(k) for k in StoredDecision.__dataclass_fields__})  # type: ignore[arg-type]

    def for_project(self, project_id: str, period: str | None = None) -> list[StoredDecision]:
        query = select(pd).where(pd.c.project_id == project_id).order_by(pd.c.record_type, pd.c.record_id)
        if period is not None:
            query = query.where(pd.c.period == period)
        return [_decision(r) for r in self._conn.execute(query)]

    def all(self, record_type: str | None = None) -> list[StoredDecision]:
        query = select(pd).order_by(pd.c.record_type, pd.c.record_id, pd.c.record_version)
        if record_type is not None:
            query = query.where(pd.c.record_type == record_type)
        return [_decision(r) for r in self._conn.execute(query)]


def _decision(row: Any) -> StoredDecision:
    return StoredDecision(
        row.record_type,
        row.record_id,
        row.record_version,
        row.project_id,
        row.period,
        row.policy,
        row.policy_version,
        row.outcome,
        row.rule,
        row.reason,
    )
