"""Circuit breakers per downstream system, kept in the database so all workers share them.

closed --(``threshold`` failures in a row)--> open --(``cooldown`` passed)--> half_open
half_open --(a success)--> closed;  half_open --(a failure)--> open again
any state --(a 429 with Retry-After)--> open until Retry-After has passed (at least)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoffs.store.tables import circuit_breakers

__all__ = [
    "BreakerPolicy",
    "BreakerState",
    "after_call",
    "before_call",
    "hold",
    "load_state",
    "save_state",
]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    threshold: int = 5
    cooldown: float = 30.0


@dataclass(frozen=True, slots=True)
class BreakerState:
    state: str = "closed"
    failures: int = 0
    opened_at: float | None = None


def before_call(policy: BreakerPolicy, s: BreakerState, now: float) -> tuple[BreakerState, float]:
    """May a call go ahead? Returns the (possibly half-opened) state and the wait (0 = go)."""
    if s.state != "open":
        return s, 0.0
    opened = s.opened_at if s.opened_at is not None else now
    remaining = opened + policy.cooldown - now
    if remaining > 0:
        return s, remaining
    return BreakerState("half_open", s.failures, s.opened_at), 0.0


def after_call(policy: BreakerPolicy, s: BreakerState, ok: bool, now: float) -> BreakerState:
    """The state after a call that succeeded (``ok``) or failed transiently."""
    if ok:
        return BreakerState()
    failures = s.failures + 1
    if s.state == "half_open" or failures >= policy.threshold:
        return BreakerState("open", failures, now)
    return BreakerState("closed", failures, None)


def hold(policy: BreakerPolicy, s: BreakerState, now: float, seconds: float) -> BreakerState:
    """Open the circuit for ``seconds`` (a 429's Retry-After), or longer if it already is.

    The system asked its client to wait; every worker is that client, so none calls it
    before then. ``opened_at`` is set so that :func:`before_call` waits exactly that long.
    """
    opened_at = now + seconds - policy.cooldown
    if s.state == "open" and s.opened_at is not None:
        opened_at = max(opened_at, s.opened_at)
    return BreakerState("open", s.failures, opened_at)


def load_state(conn: Connection, system: str, now: float) -> BreakerState:
    dialect = conn.dialect.name
    ins = pg_insert(circuit_breakers) if dialect == "postgresql" else sqlite_insert(circuit_breakers)
    conn.execute(
        ins.values(system=system, state="closed", failures=0, updated_at=now).on_conflict_do_nothing()
    )
    query = select(circuit_breakers).where(circuit_breakers.c.system == system)
    if dialect == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    return BreakerState(row.state, row.failures, row.opened_at)


def save_state(conn: Connection, system: str, s: BreakerState, now: float) -> None:
    conn.execute(
        update(circuit_breakers)
        .where(circuit_breakers.c.system == system)
        .values(state=s.state, failures=s.failures, opened_at=s.opened_at, updated_at=now)
    )
