"""Token buckets: the pure arithmetic, and a bucket shared by all workers through the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoffs.store.tables import rate_limits

__all__ = ["BucketState", "RateLimit", "take_shared_token", "take_token"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``rate`` requests per second on average, bursts of up to ``burst``."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")


@dataclass(frozen=True, slots=True)
class BucketState:
    tokens: float
    updated_at: float


def take_token(limit: RateLimit, state: BucketState | None, now: float) -> tuple[BucketState, float]:
    """Refill, then take one token. Returns the new state and the wait (0 when granted)."""
    if state is None:
        state = BucketState(limit.burst, now)
    elapsed = max(0.0, now - state.updated_at)
    tokens = min(limit.burst, state.tokens + elapsed * limit.rate)
    if tokens >= 1:
        return BucketState(tokens - 1, now), 0.0
    return BucketState(tokens, now), (1 - tokens) / limit.rate


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
