"""Token buckets, the pure arithmetic: a limit, a bucket's state, taking one token.

Kept apart from the shared, database-backed bucket (``engine/ratelimit.py``) so that
connectors can name their documented limits without reaching the store."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BucketState", "RateLimit", "take_token"]


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
