"""An append-only, tamper-evident audit log: reading it and verifying its chain.

Rows are appended by :func:`handoffs.store.repositories.audit.append` (re-exported here) in
the caller's transaction, so an audited change and its audit row commit or roll back
together. Each row's hash is an HMAC under a key derived from the master secret, which is
kept outside the database: whoever can only write the database can neither edit a row nor
recompute the hashes after it. :func:`verify` walks the chain; checked against signed
checkpoints (:mod:`handoffs.audit.checkpoint`) it also finds rows cut from the end.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, select

from handoffs.keyring import Keyring
from handoffs.store.repositories.audit import (
    GENESIS,
    KEYED,
    LEGACY,
    PURPOSE,
    append,
    audit_keyring,
    row_digest,
)
from handoffs.store.tables import audit_head, audit_log

if TYPE_CHECKING:
    from handoffs.audit.checkpoint import Checkpoint

__all__ = ["GENESIS", "AuditEntry", "Break", "Report", "append", "entries", "verify", "verify_chain"]


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


@dataclass
class Report:
    """What a verification walked and found."""

    rows: int = 0
    keyed: int = 0
    legacy: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    breaks: list[Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


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


def _check_row(row: Any, key: bytes, key_id: str, seen_keyed: bool) -> str | None:
    """Why the row's own hash does not hold, or None."""
    if row.scheme == LEGACY and seen_keyed:
        return "an unkeyed row after keyed ones (rewritten without the key)"
    if row.scheme == KEYED and row.key_id != key_id:
        return f"keyed with another master secret (key id {row.key_id}, this hub's is {key_id})"
    if row.scheme not in (LEGACY, KEYED):
        return f"unknown hash scheme {row.scheme!r}"
    fields = (row.prev_hash, row.seq, row.at, row.actor, row.action, row.target, row.before, row.after)
    digest = row_digest(row.scheme, key if row.scheme == KEYED else None, *fields)
    if not hmac.compare_digest(digest, row.hash):
        return "its contents do not match its hash (edited)"
    return None


def verify_chain(
    conn: Connection, keyring: Keyring | None = None, checkpoints: Sequence[Checkpoint] = ()
) -> Report:
    """Walk the chain, and hold it against signed ``checkpoints`` (already checked as signed).

    A checkpoint pins its row's hash, and through the links every row before it: a row
    rewritten, the chain cut short of it, or the head moved back before it is a break; so
    is an unkeyed row after it (checkpoints are only made by a hub that keys its rows).
    """
    keyring = keyring or audit_keyring(conn)
    key, key_id = keyring.key(PURPOSE), keyring.key_id()
    pinned = {cp.seq: cp for cp in checkpoints}
    keyed_after = min((cp.seq for cp in checkpoints), default=None)
    report = Report()
    prev, expected, found = GENESIS, 1, {}
    for row in _rows(conn):
        report.rows += 1
        if row.seq != expected:
            report.breaks.append(Break(expected, f"rows {expected}..{row.seq - 1} are missing"))
        if row.prev_hash != prev:
            report.breaks.append(Break(row.seq, "does not link to the row before it"))
        if keyed_after is not None and row.seq > keyed_after and row.scheme != KEYED:
            report.breaks.append(Break(row.seq, "an unkeyed row after a checkpoint (rewritten)"))
        elif (problem := _check_row(row, key, key_id, report.keyed > 0)) is not None:
            report.breaks.append(Break(row.seq, problem))
        report.keyed += row.scheme == KEYED
        report.legacy += row.scheme == LEGACY
        if row.seq in pinned:
            found[row.seq] = row.hash
        prev, expected = row.hash, row.seq + 1
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    if head is not None:
        report.head_seq, report.head_hash = int(head.seq), str(head.hash)
        if report.head_seq != expected - 1 or head.hash != prev:
            report.breaks.append(
                Break(
                    report.head_seq,
                    f"the head says the log ends at row {head.seq}, but it ends at row {expected - 1}",
                )
            )
    elif report.rows:
        report.breaks.append(Break(0, "the chain head is missing"))
    for cp in sorted(checkpoints, key=lambda c: c.seq):
        report.breaks.extend(_against(cp, found.get(cp.seq), expected - 1, report.head_seq))
    return report


def _against(cp: Checkpoint, row_hash: str | None, last: int, head_seq: int) -> list[Break]:
    where = f"checkpoint of row {cp.seq} ({cp.at})"
    out = []
    if head_seq < cp.seq:
        out.append(Break(cp.seq, f"the head was moved back to row {head_seq}, before the {where}"))
    if last < cp.seq:
        out.append(Break(cp.seq, f"the log ends at row {last}: rows were cut from the end since the {where}"))
    elif row_hash is None:
        out.append(Break(cp.seq, f"the row of the {where} is missing"))
    elif not hmac.compare_digest(row_hash, cp.hash):
        out.append(Break(cp.seq, f"the row no longer has the hash of the {where} (history rewritten)"))
    return out


def verify(conn: Connection) -> tuple[int, list[Break]]:
    """Walk the chain; returns the rows checked and every break found (empty when intact)."""
    report = verify_chain(conn)
    return report.rows, report.breaks
