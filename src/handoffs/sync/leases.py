"""Who pulls a system now (``pull_leases``), and what each pull did (``sync_runs``).

::

    claim(system)   INSERT the lease if there is none; otherwise UPDATE it WHERE it expired
                    (or is already ours). One statement each: of many workers, one wins.
    renew(system)   UPDATE ... WHERE owner = me: push the expiry on while the pull runs;
                    0 rows means another worker took the lease over (this one was too slow).
    release(system) DELETE ... WHERE owner = me.

A puller killed mid-pull stops renewing; once its lease has expired another worker claims
it, closes the dead pull's run as ``abandoned`` and pulls again from the stored cursor
(which only a finished pull moves), so nothing is lost, and the store's version rules mean
nothing is doubled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoffs.store.tables import pull_leases, sync_runs

__all__ = ["PullLeases", "SyncRun", "SyncRuns", "recent_runs"]


class PullLeases:
    """Leases on source systems for ``owner``, each lasting ``seconds`` unless renewed."""

    def __init__(
        self, engine: Engine, owner: str, seconds: float, now: Callable[[], float] = time.time
    ) -> None:
        self.engine, self.owner, self.seconds, self._now = engine, owner, seconds, now

    def claim(self, system: str) -> bool:
        """Take the lease on ``system`` if nobody holds it, or its holder let it expire."""
        now = self._now()
        values = {"owner": self.owner, "expires_at": now + self.seconds, "acquired_at": now}
        ins = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        with self.engine.begin() as conn:
            c = pull_leases.c
            stmt = (
                ins(pull_leases).values(system=system, **values).on_conflict_do_nothing().returning(c.system)
            )
            if conn.execute(stmt).first() is not None:  # RETURNING: rowcount is not reliable here
                return True
            taken = conn.execute(
                update(pull_leases)
                .where(c.system == system, (c.expires_at < now) | (c.owner == self.owner))
                .values(**values)
            )
            return bool(taken.rowcount)

    def renew(self, system: str) -> bool:
        """Push the expiry on; False when the lease is no longer ours."""
        c = pull_leases.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(pull_leases)
                .where(c.system == system, c.owner == self.owner)
                .values(expires_at=self._now() + self.seconds)
            )
            return bool(done.rowcount)

    def release(self, system: str) -> None:
        c = pull_leases.c
        with self.engine.begin() as conn:
            conn.execute(delete(pull_leases).where(c.system == system, c.owner == self.owner))


@dataclass(frozen=True, slots=True)
class SyncRun:
    """One pull of one system."""

    id: int
    system: str
    owner: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running, ok, failed, abandoned
    counts: dict[str, Any]
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "system": self.system,
            "owner": self.owner,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "status": self.status,
            "counts": self.counts,
            "error": self.error,
        }


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def recent_runs(conn: Connection, system: str | None = None, limit: int = 50) -> list[SyncRun]:
    """The latest runs read on ``conn``, newest first (of one system, or of all)."""
    c = sync_runs.c
    query = select(sync_runs).order_by(c.started_at.desc(), c.id.desc()).limit(limit)
    if system is not None:
        query = query.where(c.system == system)
    return [
        SyncRun(
            int(r.id),
            r.system,
            r.owner,
            _utc(r.started_at),  # type: ignore[arg-type]
            _utc(r.finished_at),
            r.status,
            orjson.loads(r.counts),
            r.error,
        )
        for r in conn.execute(query).all()
    ]


class SyncRuns:
    """The ``sync_runs`` log: started and finished by the puller, read by anyone."""

    def __init__(self, engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine, self._now = engine, now

    def start(self, system: str, owner: str) -> int:
        """Record a pull starting; runs of ``system`` left ``running`` by others are abandoned
        (only the lease holder calls this, so their puller is gone)."""
        c = sync_runs.c
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(
                update(sync_runs)
                .where(c.system == system, c.status == "running")
                .values(status="abandoned", finished_at=now, error="the puller stopped before it finished")
            )
            row = conn.execute(
                insert(sync_runs)
                .values(system=system, owner=owner, started_at=now, status="running", counts="{}")
                .returning(c.id)
            ).scalar_one()
        return int(row)

    def finish(self, run_id: int, counts: dict[str, Any], error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sync_runs)
                .where(sync_runs.c.id == run_id)
                .values(
                    finished_at=self._now(),
                    status="failed" if error else "ok",
                    counts=orjson.dumps(counts, option=orjson.OPT_SORT_KEYS).decode(),
                    error=error,
                )
            )

    def last_started(self) -> dict[str, datetime]:
        """Each system's latest pull start (the clock its schedule counts from)."""
        c = sync_runs.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.system, func.max(c.started_at)).group_by(c.system)).all()
        return {str(system): _utc(started) for system, started in rows if started is not None}  # type: ignore[misc]

    def recent(self, system: str | None = None, limit: int = 50) -> list[SyncRun]:
        """The latest runs, newest first (of one system, or of all)."""
        with self.engine.connect() as conn:
            return recent_runs(conn, system, limit)
