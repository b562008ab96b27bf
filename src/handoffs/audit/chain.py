"""An append-only, tamper-evident audit log.

Each row's ``hash`` is SHA-256 over the previous row's hash and the row's own fields in
canonical JSON, so editing any field of any row, or deleting a row, breaks the chain from
that point on. A one-row head (``audit_head``) holds the last sequence number and hash: it
serialises appenders (locked ``FOR UPDATE`` on PostgreSQL; SQLite has one writer) and lets
:func:`verify` notice that the newest rows were deleted.

Rows are written in the caller's transaction, so an audited change and its audit row
commit or roll back together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from handoffs.store.tables import audit_head, audit_log

__all__ = ["GENESIS", "AuditEntry", "Break", "append", "entries", "verify"]

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class Break:
    """Where the chain stops holding, and why."""

    seq: int
    reason: str


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _digest(
    prev_hash: str, seq: int, at: datetime, actor: str, action: str, target: str, before: str, after: str
) -> str:
    fields = [prev_hash, seq, at.isoformat(), actor, action, target, before, after]
    return hashlib.sha256(_json(fields).encode()).hexdigest()


def append(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> int:
    """Append one row in the caller's transaction; returns its sequence number."""
    query = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    head = conn.execute(query).first()
    if head is None:
        # Two first appenders race on this insert; the loser's transaction fails and is retried.
        conn.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS))
        seq, prev = 1, GENESIS
    else:
        seq, prev = int(head.seq) + 1, str(head.hash)
    before_s, after_s = _json(before), _json(after)
    digest = _digest(prev, seq, at, actor, action, target, before_s, after_s)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target[:255],
            before=before_s,
            after=after_s,
            prev_hash=prev,
            hash=digest,
        )
    )
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return seq


def entries(conn: Connection, *, limit: int = 100, target: str | None = None) -> list[AuditEntry]:
    """The newest rows first."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if target is not None:
        query = query.where(audit_log.c.target == target)
    return [
        AuditEntry(r.seq, r.at, r.actor, r.action, r.target, orjson.loads(r.before), orjson.loads(r.after))
        for r in conn.execute(query)
    ]


def _rows(conn: Connection) -> Iterator[Any]:
    last = 0
    while True:
        batch = conn.execute(
            select(audit_log).where(audit_log.c.seq > last).order_by(audit_log.c.seq).limit(1000)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def verify(conn: Connection) -> tuple[int, list[Break]]:
    """Walk the chain; returns the rows checked and every break found (empty when intact)."""
    breaks: list[Break] = []
    prev, expected, checked = GENESIS, 1, 0
    for row in _rows(conn):
        checked += 1
        if row.seq != expected:
            breaks.append(Break(expected, f"rows {expected}..{row.seq - 1} are missing"))
        if row.prev_hash != prev:
            breaks.append(Break(row.seq, "does not link to the row before it"))
        digest = _digest(
            row.prev_hash, row.seq, row.at, row.actor, row.action, row.target, row.before, row.after
        )
        if digest != row.hash:
            breaks.append(Break(row.seq, "its contents do not match its hash (edited)"))
        prev, expected = row.hash, row.seq + 1
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    if head is not None and (int(head.seq) != expected - 1 or head.hash != prev):
        breaks.append(
            Break(
                int(head.seq),
                f"the head says the log ends at row {head.seq}, but it ends at row {expected - 1}",
            )
        )
    if head is None and checked:
        breaks.append(Break(0, "the chain head is missing"))
    return checked, breaks
