"""Exponential backoff with full jitter (the delay is drawn from [0, cap])."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays for attempt n: uniform(0, min(cap, base * 2**n)), never below ``floor``."""

    base: float = 0.5
    cap: float = 60.0
    floor: float = 0.05
    max_attempts: int = 8

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        drawn = max(self.floor, rng.uniform(0, ceiling))
        return max(drawn, retry_after) if retry_after is not None else drawn

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
