"""Back-off for console sign-ins, per user name and per client address.

Failed sign-ins are counted in ``console_login_throttle`` under ``user:<name>`` and
``addr:<client address>``. A count starts again when no failure came for
:attr:`Backoff.window`. From :attr:`Backoff.failures` failures on, each failure locks the
key for a delay that doubles with every further failure (``first_delay``, twice that, ...)
up to ``max_delay``; while a key is locked, sign-ins for it are refused before any password
is checked, and are not counted. A successful sign-in clears its user's count (not the
address's: one valid account must not buy an address more guesses at others).

Rows are locked for the update (``FOR UPDATE`` on PostgreSQL; SQLite has one writer), so
every ``serve`` process on every machine counts into the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoffs.store.tables import console_login_throttle

__all__ = ["ADDRESS", "USER", "Backoff", "clear", "locked_for", "record_failure"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """How many failures a key may have, and how long it is then locked."""

    failures: int
    window: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=15)

    def delay(self, failures: int) -> timedelta:
        """How long ``failures`` failures in a row lock a key (zero below the threshold)."""
        if failures < self.failures:
            return timedelta(0)
        doublings = min(failures - self.failures, 16)
        delay: timedelta = self.first_delay * 2**doublings
        return min(delay, self.max_delay)


USER = Backoff(failures=5)
ADDRESS = Backoff(failures=20)


def locked_for(conn: Connection, keys: list[str], now: datetime) -> timedelta | None:
    """How long the longest lock among ``keys`` still lasts, or None when none is locked."""
    until = conn.execute(
        select(console_login_throttle.c.locked_until).where(
            console_login_throttle.c.key.in_(keys), console_login_throttle.c.locked_until > now
        )
    ).scalars()
    latest = max(until, default=None)
    return None if latest is None else latest - now


def record_failure(conn: Connection, key: str, rule: Backoff, now: datetime) -> timedelta:
    """Count one failure for ``key``; returns how long the key is now locked (zero: not)."""
    table = console_login_throttle
    ins = pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
    conn.execute(
        ins.values(key=key, failures=0, last_failure_at=now, locked_until=None).on_conflict_do_nothing()
    )
    query = select(table.c.failures, table.c.last_failure_at).where(table.c.key == key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    failures = 1 if now - row.last_failure_at > rule.window else int(row.failures) + 1
    delay = rule.delay(failures)
    conn.execute(
        update(table)
        .where(table.c.key == key)
        .values(failures=failures, last_failure_at=now, locked_until=now + delay if delay else None)
    )
    conn.execute(  # counts nobody has added to for a day are of no further use
        delete(table).where(table.c.last_failure_at < now - timedelta(days=1), table.c.key != key)
    )
    return delay


def clear(conn: Connection, key: str) -> None:
    """Forget ``key``'s failures (after a successful sign-in)."""
    conn.execute(delete(console_login_throttle).where(console_login_throttle.c.key == key))
