"""Downstream protection: every outbound call passes the system's breaker and rate limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine

from handoffs.engine.breaker import BreakerPolicy, after_call, before_call, hold, load_state, save_state
from handoffs.engine.errors import CircuitOpen, RateLimited, TransientError, Waiting
from handoffs.engine.ratelimit import RateLimit, take_shared_token
from handoffs.telemetry.metrics import CIRCUIT_STATES, Metrics

__all__ = ["SystemGuard"]

T = TypeVar("T")


class SystemGuard:
    """Shared (database-backed) circuit breaker and token bucket per system.

    Args:
        engine: the hub database, where bucket and breaker state live.
        limits: requests per second and burst per system, from its documented API limits.
        breaker: when to open and how long to stay open.
        max_wait: wait this long at most for a token in-process; longer waits are handed
            back to the worker as a retry with ``retry_after``, so no worker blocks.
    """

    def __init__(
        self,
        engine: Engine,
        limits: dict[str, RateLimit],
        breaker: BreakerPolicy | None = None,
        *,
        max_wait: float = 1.0,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._engine = engine
        self._limits = limits
        self._policy = breaker or BreakerPolicy()
        self._max_wait = max_wait
        self._now = now
        self._sleep = sleep

    @property
    def limits(self) -> dict[str, RateLimit]:
        """The rate limit of each system that has one (a copy)."""
        return dict(self._limits)

    def call(self, system: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` (one call to ``system``) if the breaker and the rate limit allow it."""
        with self._engine.begin() as conn:
            now = self._now()
            state, wait = before_call(self._policy, load_state(conn, system, now), now)
            save_state(conn, system, state, now)
        self._metrics.circuit.labels(system).set(CIRCUIT_STATES[state.state])
        if wait > 0:
            self._metrics.calls.labels(system, "circuit_open").inc()
            raise CircuitOpen(f"circuit for {system} is open", retry_after=wait)
        self._acquire(system)
        try:
            result = fn()
        except Waiting:
            self._metrics.calls.labels(system, "ok").inc()
            self._record(system, ok=True)  # it answered: an unfinished job is not an outage
            raise
        except TransientError as exc:
            self._metrics.calls.labels(system, "transient").inc()
            # A 429's Retry-After holds every worker's calls to the system, not only this one.
            wait_for = exc.retry_after if isinstance(exc, RateLimited) else None
            self._record(system, ok=False, hold_for=wait_for)
            raise
        except Exception:
            self._metrics.calls.labels(system, "terminal").inc()
            self._record(system, ok=True)  # the system answered; a refusal is not an outage
            raise
        self._metrics.calls.labels(system, "ok").inc()
        self._record(system, ok=True)
        return result

    def _acquire(self, system: str) -> None:
        limit = self._limits.get(system)
        if limit is None:
            return
        waited = 0.0
        while True:
            with self._engine.begin() as conn:
                wait = take_shared_token(conn, f"system:{system}", limit, self._now())
            if wait == 0:
                return
            if waited + wait > self._max_wait:
                self._metrics.calls.labels(system, "throttled").inc()
                raise RateLimited(f"rate limit for {system} reached", retry_after=wait)
            self._metrics.throttle_wait.labels(system).inc(wait)
            self._sleep(wait)
            waited += wait

    def _record(self, system: str, *, ok: bool, hold_for: float | None = None) -> None:
        with self._engine.begin() as conn:
            now = self._now()
            state = after_call(self._policy, load_state(conn, system, now), ok, now)
            if hold_for:
                state = hold(self._policy, state, now, hold_for)
            save_state(conn, system, state, now)
        self._metrics.circuit.labels(system).set(CIRCUIT_STATES[state.state])
