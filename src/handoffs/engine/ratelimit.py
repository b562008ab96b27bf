"""A token bucket shared by all workers through the database (the arithmetic is in ``buckets``)."""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoffs.engine.buckets import BucketState, RateLimit, take_token
from handoffs.store.tables import rate_limits

__all__ = ["BucketState", "RateLimit", "take_shared_token", "take_token"]


def take_shared_token(conn: Connection, key: str, limit: RateLimit, now: float) -> float:
    """Take a token from the bucket stored under ``key``; returns the wait, 0 when granted.

    The row is locked for the update (``FOR UPDATE`` on PostgreSQL; SQLite has one writer),
    so every worker on every machine draws from the same bucket.
    """
    dialect = conn.dialect.name
    ins = pg_insert(rate_limits) if dialect == "postgresql" else sqlite_insert(rate_limits)
    conn.execute(ins.values(key=key, tokens=limit.burst, updated_at=now).on_conflict_do_nothing())
    query = select(rate_limits.c.tokens, rate_limits.c.updated_at).where(rate_limits.c.key == key)
    if dialect == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    state, wait = take_token(limit, BucketState(row.tokens, row.updated_at), now)
    conn.execute(
        update(rate_limits)
        .where(rate_limits.c.key == key)
        .values(tokens=state.tokens, updated_at=state.updated_at)
    )
    return wait
