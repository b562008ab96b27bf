"""Stored first responses to ``Idempotency-Key`` requests, per client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from handoffs.store.tables import idempotency_keys as ik

__all__ = ["IdempotencyRepository", "StoredResponse"]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status: int
    body: str


class IdempotencyRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def get(self, client_id: str, key: str) -> StoredResponse | None:
        row = self._conn.execute(
            select(ik.c.request_hash, ik.c.status, ik.c.body).where(
                ik.c.client_id == client_id, ik.c.key == key, ik.c.expires_at > self._now
            )
        ).first()
        return None if row is None else StoredResponse(row.request_hash, row.status, row.body)

    def store(
        self, client_id: str, key: str, request_hash: str, status: int, body: str, keep: timedelta
    ) -> None:
        """Store the first response; a concurrent twin makes this raise ``IntegrityError``.

        Expired keys (of every client) are deleted on the way, through the index on ``expires_at``.
        """
        self.purge_expired()
        self._conn.execute(
            insert(ik).values(
                client_id=client_id,
                key=key,
                request_hash=request_hash,
                status=status,
                body=body,
                created_at=self._now,
                expires_at=self._now + keep,
            )
        )

    def purge_expired(self) -> int:
        return int(self._conn.execute(delete(ik).where(ik.c.expires_at <= self._now)).rowcount)
