"""What the console's pages show, read from the store: flow health, connectors, traces.

Plain functions over an open unit of work; they return dicts and lists the templates print.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, case, func, select

from handoffs.analytics import compute
from handoffs.analytics.flow import straight_through_overall
from handoffs.store.repositories.cursors import CursorRepository
from handoffs.store.tables import (
    circuit_breakers,
    connector_cursors,
    deliveries,
    exceptions,
    invoices,
    messages,
    rate_limits,
    time_entries,
)
from handoffs.sync.leases import recent_runs

__all__ = [
    "OPEN_STATES",
    "connectors",
    "open_by_category",
    "overview",
    "per_day",
    "recent_correlations",
    "sync_history",
    "sync_status",
    "trace",
]

OPEN_STATES = ("open", "in_progress", "retrying")


def _day(conn: Connection, col: Any) -> Any:
    """``YYYY-MM-DD`` of a UTC timestamp column, on either database."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", col), "YYYY-MM-DD")
    return func.substr(col, 1, 10)


def per_day(conn: Connection, col: Any, *where: Any, days: int = 31) -> list[tuple[str, int]]:
    """Rows per UTC day of ``col`` (the last ``days`` days that have any)."""
    day = _day(conn, col).label("day")
    query = select(day, func.count()).where(*where).group_by(day).order_by(day.desc()).limit(days)
    return sorted((str(r[0]), int(r[1])) for r in conn.execute(query))


def time_by_work_date(conn: Connection, days: int = 62) -> list[tuple[str, int, int]]:
    """Time entries per work date (the latest ``days`` dates): all of them, and those approved."""
    te = time_entries
    approved = func.sum(case((te.c.status == "approved", 1), else_=0))
    query = (
        select(te.c.work_date, func.count(), approved)
        .group_by(te.c.work_date)
        .order_by(te.c.work_date.desc())
        .limit(days)
    )
    return sorted((r[0].isoformat(), int(r[1]), int(r[2] or 0)) for r in conn.execute(query))


def open_by_category(conn: Connection) -> dict[str, int]:
    query = (
        select(exceptions.c.category, func.count())
        .where(exceptions.c.state.in_(OPEN_STATES))
        .group_by(exceptions.c.category)
        .order_by(exceptions.c.category)
    )
    return {r[0]: int(r[1]) for r in conn.execute(query)}


def _straight_through(conn: Connection) -> tuple[int, int, Decimal | None]:
    return straight_through_overall(compute(conn, names=["straight_through"])["straight_through"].rows)


def _delivery_lag(conn: Connection, limit: int = 2000) -> float | None:
    """Median seconds from a delivery's creation to its confirmation, over the latest ones."""
    rows = conn.execute(
        select(deliveries.c.created_at, deliveries.c.confirmed_at)
        .where(deliveries.c.confirmed_at.is_not(None))
        .order_by(deliveries.c.confirmed_at.desc())
        .limit(limit)
    ).all()
    lags = [(r.confirmed_at - r.created_at).total_seconds() for r in rows]
    return statistics.median(lags) if lags else None


def overview(uow: Any, now: float, days: int = 31) -> dict[str, Any]:
    """Flow health: queue depth, dead letters, open exceptions, throughput, lag, straight-through.

    ``days``: the charts cover the latest this many days (work dates) that have any data.
    """
    conn = uow.connection
    queue = uow.queue.count_by_status()
    outstanding, due = uow.queue.outstanding()
    records, straight, rate = _straight_through(conn)
    return {
        "queue": {s: queue.get(s, 0) for s in ("pending", "leased", "done", "dead")},
        "outstanding": outstanding,
        "queue_lag_s": max(0.0, now - due) if due is not None else 0.0,
        "delivery_lag_s": _delivery_lag(conn),
        "deliveries": uow.deliveries.count_by_status(),
        "open_by_category": open_by_category(conn),
        "open_total": sum(open_by_category(conn).values()),
        "recorded_per_day": per_day(conn, messages.c.recorded_at, days=days),
        "time_by_work_date": time_by_work_date(conn, days=days),
        "confirmed_per_day": per_day(
            conn, deliveries.c.confirmed_at, deliveries.c.confirmed_at.is_not(None), days=days
        ),
        "straight_through": {"records": records, "straight": straight, "rate": rate},
    }


def connectors(uow: Any, hub: Any, now: float, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """Circuit state and rate-limit tokens per system, and the last cursor per source.

    Args:
        known: rate limits from a systems file, for systems the hub's guard has none for.
    """
    conn = uow.connection
    guard = getattr(hub.ports, "guard", None)
    limits = (known or {}) | (guard.limits if guard is not None else {})
    circuits = {r.system: r for r in conn.execute(select(circuit_breakers))}
    buckets = {
        r.key.removeprefix("system:"): r
        for r in conn.execute(select(rate_limits).where(rate_limits.c.key.like("system:%")))
    }
    systems = []
    for name in sorted(set(circuits) | set(buckets) | set(limits)):
        circuit, bucket, limit = circuits.get(name), buckets.get(name), limits.get(name)
        tokens = None
        if bucket is not None:
            tokens = bucket.tokens
            if limit is not None:  # what the bucket holds now, refilled since it was last used
                tokens = min(limit.burst, bucket.tokens + (now - bucket.updated_at) * limit.rate)
        systems.append(
            {
                "system": name,
                "circuit": circuit.state if circuit is not None else "closed",
                "failures": circuit.failures if circuit is not None else 0,
                "opened_at": _when(circuit.opened_at) if circuit is not None else None,
                "tokens": tokens,
                "burst": limit.burst if limit is not None else None,
                "rate": limit.rate if limit is not None else None,
                "used_pct": None
                if tokens is None or limit is None
                else round(100 * (1 - tokens / limit.burst), 1),
            }
        )
    cursors = [
        {
            "connector": c,
            "resource": r,
            "position": cur.position,
            "pulls": cur.pulls,
            "overlap": len(cur.seen),
        }
        for (c, r), cur in sorted(CursorRepository(conn, uow.now).all().items())
    ]
    return {"systems": systems, "cursors": cursors}


def sync_status(conn: Connection, systems: dict[str, str]) -> list[dict[str, Any]]:
    """Per pulled system: each resource's last pull, pulls so far and cursor; the last error.

    ``systems`` names the pull connectors the server knows (name -> connector type); systems
    that were pulled before (they have cursors) are listed too. The page reads only this
    function, so a table of sync runs can become its source without touching the template.
    """
    cursors: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(
        select(connector_cursors).order_by(connector_cursors.c.connector, connector_cursors.c.resource)
    ):
        cursors.setdefault(r.connector, []).append(
            {"resource": r.resource, "last_sync": r.updated_at, "pulls": r.pulls, "position": r.position}
        )
    out = []
    for name in sorted(set(systems) | set(cursors)):
        mine = exceptions.c.source.like(f"{name}:%")
        last = conn.execute(
            select(exceptions.c.id, exceptions.c.reason, exceptions.c.created_at)
            .where(mine)
            .order_by(exceptions.c.id.desc())
            .limit(1)
        ).first()
        open_count = conn.execute(
            select(func.count()).where(mine, exceptions.c.state.in_(OPEN_STATES))
        ).scalar_one()
        resources = cursors.get(name, [])
        out.append(
            {
                "system": name,
                "connector": systems.get(name, ""),
                "resources": resources,
                "last_sync": max((r["last_sync"] for r in resources), default=None),
                "last_error": None
                if last is None
                else {"id": last.id, "reason": last.reason, "at": last.created_at},
                "open_exceptions": int(open_count),
                "can_sync": name in systems,
            }
        )
    return out


def sync_history(conn: Connection, limit: int = 30) -> list[dict[str, Any]]:
    """The latest pulls of every system (scheduled, ``sync now``), newest first, from ``sync_runs``:
    who ran it, when, how long, records pulled, held and stored, and how it ended."""
    out = []
    for run in recent_runs(conn, limit=limit):
        per = {k: v for k, v in run.counts.items() if isinstance(v, dict) and "fetched" in v}
        out.append(
            {
                "system": run.system,
                "by": run.owner,
                "started": run.started_at,
                "finished": run.finished_at,
                "status": run.status,
                "fetched": sum(int(v["fetched"]) for v in per.values()),
                "failed": sum(int(v["failed"]) for v in per.values()),
                "stored": sum(
                    int(v["outcomes"].get("inserted", 0)) + int(v["outcomes"].get("updated", 0))
                    for v in per.values()
                ),
                "resources": list(per),
                "error": run.error or run.counts.get("error"),
            }
        )
    return out


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def trace(uow: Any, correlation_id: str) -> dict[str, Any]:
    """Everything the store keeps for one correlation id, in time order."""
    conn = uow.connection
    steps: list[dict[str, Any]] = []
    for r in conn.execute(
        select(
            messages.c.seq,
            messages.c.kind,
            messages.c.type,
            messages.c.occurred_at,
            messages.c.recorded_at,
            messages.c.payload,
        )
        .where(messages.c.correlation_id == correlation_id)
        .order_by(messages.c.seq)
        .limit(500)
    ):
        steps.append(
            {
                "at": r.recorded_at,
                "what": f"{r.kind} {r.type}",
                "kind": r.kind,
                "occurred": r.occurred_at,
                "payload": r.payload,
            }
        )
    for x in conn.execute(
        select(exceptions.c.id, exceptions.c.category, exceptions.c.state, exceptions.c.created_at)
        .where(exceptions.c.correlation_id == correlation_id)
        .limit(200)
    ):
        steps.append(
            {
                "at": x.created_at,
                "what": f"exception #{x.id} {x.category} ({x.state})",
                "kind": "exception",
                "exception_id": x.id,
            }
        )
    invoice_ids = [
        r.id for r in conn.execute(select(invoices.c.id).where(invoices.c.correlation_id == correlation_id))
    ]
    if invoice_ids:
        for d in conn.execute(
            select(deliveries).where(
                deliveries.c.object_type == "invoice", deliveries.c.object_id.in_(invoice_ids)
            )
        ):
            steps.append(
                {
                    "at": d.created_at,
                    "what": f"delivery {d.operation} {d.object_id} to {d.system}",
                    "kind": "delivery",
                }
            )
            if d.confirmed_at is not None:
                steps.append(
                    {
                        "at": d.confirmed_at,
                        "what": f"confirmed by {d.system} as {d.external_id}",
                        "kind": "confirmation",
                    }
                )
    steps.sort(key=lambda s: s["at"])
    kinds = Counter(s["kind"] for s in steps)
    start = steps[0]["at"] if steps else None
    rows: list[dict[str, Any]] = []
    for s in steps:  # a run of the same step (28 approvals in one load) is one row with a count
        if rows and rows[-1]["what"] == s["what"] and "exception_id" not in s:
            rows[-1]["count"] += 1
            rows[-1]["last"] = s["at"]
            continue
        rows.append({**s, "count": 1, "last": s["at"], "offset_s": (s["at"] - start).total_seconds()})
    return {"correlation_id": correlation_id, "steps": rows, "kinds": dict(kinds), "invoices": invoice_ids}


def recent_correlations(conn: Connection, limit: int = 20) -> list[str]:
    """Correlation ids with the newest messages, for the trace page's picker."""
    last = func.max(messages.c.seq).label("last")
    query = (
        select(messages.c.correlation_id, last)
        .group_by(messages.c.correlation_id)
        .order_by(last.desc())
        .limit(limit)
    )
    return [r[0] for r in conn.execute(query)]
