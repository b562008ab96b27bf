"""The event log, the work queue that fans messages out to consumers, and the inbox.

A message and its work rows are written in the same transaction as the state change that
produced them (the transactional outbox). The inbox row ``(consumer, key)`` is written in
the same transaction as a consumer's effects, so a message is applied at most once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from handoffs.domain.messages import Command, Message
from handoffs.store.bulk import insert_many, insert_returning
from handoffs.store.serde import message_to_json
from handoffs.store.tables import inbox, messages, work_queue

__all__ = ["Inbox", "MessageLog", "WorkItem", "WorkQueue"]


@dataclass(frozen=True, slots=True)
class WorkItem:
    id: int
    message_seq: int
    message_id: str
    consumer: str
    attempts: int
    replay: int
    type: str
    payload: str
    correlation_id: str = ""
    recorded_at: datetime | None = None

    @property
    def inbox_key(self) -> str:
        return self.message_id if self.replay == 0 else f"{self.message_id}#replay-{self.replay}"


class MessageLog:
    def __init__(self, conn: Connection, now: datetime, now_s: float) -> None:
        self._conn = conn
        self._now = now
        self._now_s = now_s

    def append(self, batch: Sequence[Message], subscriptions: Mapping[str, Sequence[str]]) -> int:
        """Store new messages and one work row per subscribed consumer; returns how many were new.

        A message whose id is already stored is skipped: ids are derived from their cause,
        so a redelivered cause yields the same id and no second message.
        """
        if not batch:
            return 0
        rows = [
            (
                m.message_id,
                "command" if isinstance(m, Command) else "event",
                type(m).__name__,
                message_to_json(m),
                m.correlation_id,
                m.occurred_at,
            )
            for m in _unique(batch)
        ]
        returning = ("seq", "message_id", "type")
        recorded = {"recorded_at": self._now}
        created = insert_returning(
            self._conn, messages, _MESSAGE_COLUMNS, rows, returning, recorded, skip_conflicts=True
        )
        keys = {m.message_id: m.coalesce_key() for m in batch}
        work = [
            {
                "message_seq": seq,
                "message_id": message_id,
                "consumer": consumer,
                "coalesce_key": keys.get(message_id),
            }
            for seq, message_id, type_name in sorted(created)
            for consumer in subscriptions.get(type_name, ())
        ]
        work = self._coalesce(work)
        insert_many(
            self._conn,
            work_queue,
            _WORK_COLUMNS,
            [(w["message_seq"], w["message_id"], w["consumer"], w["coalesce_key"]) for w in work],
            {"status": "pending", "attempts": 0, "available_at": self._now_s, "replay": 0},
        )
        return len(created)

    def _coalesce(self, work: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop work that joins a pending item with the same consumer and key (stored or in this batch).

        The message itself is kept in the log; only its second piece of work is not queued.
        """
        keyed = {(w["consumer"], w["coalesce_key"]) for w in work if w["coalesce_key"]}
        if not keyed:
            return work
        waiting: set[tuple[str, str]] = set()
        for consumer in {c for c, _ in keyed}:
            wanted = sorted(k for c, k in keyed if c == consumer)
            for start in range(0, len(wanted), 500):
                # FOR UPDATE (PostgreSQL): a worker claiming the run skips it until this
                # transaction commits, so the run sees what this one priced; a run already being
                # claimed makes us wait, then no longer counts as pending, and a new run is queued.
                query = (
                    select(work_queue.c.coalesce_key)
                    .where(
                        work_queue.c.consumer == consumer,
                        work_queue.c.status == "pending",
                        work_queue.c.coalesce_key.in_(wanted[start : start + 500]),
                    )
                    .order_by(work_queue.c.coalesce_key)
                    .with_for_update()
                )
                waiting.update((consumer, k) for (k,) in self._conn.execute(query))
        kept = []
        for w in work:
            key = (w["consumer"], w["coalesce_key"])
            if w["coalesce_key"] and key in waiting:
                continue
            if w["coalesce_key"]:
                waiting.add(key)
            kept.append(w)
        return kept

    def select(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        correlation_id: str | None = None,
    ) -> list[tuple[int, str, str]]:
        """(seq, message_id, type) of stored messages in a time range and/or for one correlation id."""
        query = select(messages.c.seq, messages.c.message_id, messages.c.type).order_by(messages.c.seq)
        if since is not None:
            query = query.where(messages.c.occurred_at >= since)
        if until is not None:
            query = query.where(messages.c.occurred_at < until)
        if correlation_id is not None:
            query = query.where(messages.c.correlation_id == correlation_id)
        return [(r.seq, r.message_id, r.type) for r in self._conn.execute(query)]

    def count_by_type(self) -> dict[str, int]:
        rows = self._conn.execute(select(messages.c.type, func.count()).group_by(messages.c.type))
        return {r[0]: int(r[1]) for r in rows}


_MESSAGE_COLUMNS = ("message_id", "kind", "type", "payload", "correlation_id", "occurred_at")
_WORK_COLUMNS = ("message_seq", "message_id", "consumer", "coalesce_key")


def _unique(batch: Sequence[Message]) -> list[Message]:
    seen: dict[str, Message] = {}
    for m in batch:
        seen.setdefault(m.message_id, m)
    return list(seen.values())


class WorkQueue:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def claim(self, owner: str, limit: int, lease_s: float, now_s: float) -> list[WorkItem]:
        """Lease up to ``limit`` runnable items: pending and due, or leased with an expired lease.

        The lowest ids go first. Each kind is read in id order through ``ix_work_queue_order``
        and stops at ``limit``, so a claim costs the same with ten or ten million items queued.
        """
        wq = work_queue
        runnable = (
            # "+ 0" keeps the planner off the (status, available_at) index, whose rows would all
            # have to be sorted by id; nearly every pending item is due, so few are skipped.
            and_(wq.c.status == "pending", wq.c.available_at + 0 <= now_s),
            and_(wq.c.status == "leased", wq.c.lease_expires_at < now_s),
        )
        picked: list[int] = []
        for condition in runnable:
            pick = select(wq.c.id).where(condition).order_by(wq.c.id).limit(limit)
            if self._conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            picked += self._conn.execute(pick).scalars().all()
        if not picked:
            return []
        claimed = (
            self._conn.execute(
                update(wq)
                .where(wq.c.id.in_(sorted(picked)[:limit]))
                .values(status="leased", lease_owner=owner, lease_expires_at=now_s + lease_s)
                .returning(wq.c.id)
            )
            .scalars()
            .all()
        )
        if not claimed:
            return []
        rows = self._conn.execute(
            select(
                wq.c.id,
                wq.c.message_seq,
                wq.c.message_id,
                wq.c.consumer,
                wq.c.attempts,
                wq.c.replay,
                messages.c.type,
                messages.c.payload,
                messages.c.correlation_id,
                messages.c.recorded_at,
            )
            .join(messages, messages.c.seq == wq.c.message_seq)
            .where(wq.c.id.in_(claimed))
            .order_by(wq.c.id)
        )
        return [
            WorkItem(
                r.id,
                r.message_seq,
                r.message_id,
                r.consumer,
                r.attempts,
                r.replay,
                r.type,
                r.payload,
                r.correlation_id,
                r.recorded_at,
            )
            for r in rows
        ]

    def complete(self, ids: Sequence[int], owner: str) -> None:
        self._conn.execute(
            update(work_queue)
            .where(work_queue.c.id.in_(ids))
            .values(status="done", lease_owner=None, lease_expires_at=None, last_error=None)
        )

    def retry_later(self, item_id: int, attempts: int, available_at: float, error: str) -> None:
        self._conn.execute(
            update(work_queue)
            .where(work_queue.c.id == item_id)
            .values(
                status="pending",
                attempts=attempts,
                available_at=available_at,
                lease_owner=None,
                lease_expires_at=None,
                last_error=error[:2000],
            )
        )

    def dead(self, item_id: int, attempts: int, error: str) -> None:
        self._conn.execute(
            update(work_queue)
            .where(work_queue.c.id == item_id)
            .values(
                status="dead",
                attempts=attempts,
                lease_owner=None,
                lease_expires_at=None,
                last_error=error[:2000],
            )
        )

    def requeue(self, item_id: int, now_s: float) -> None:
        """Put a dead item back in line (an operator's retry)."""
        self._conn.execute(
            update(work_queue)
            .where(work_queue.c.id == item_id, work_queue.c.status == "dead")
            .values(status="pending", available_at=now_s, last_error=None)
        )

    def enqueue_replay(
        self, seqs: Sequence[tuple[int, str, str]], subscriptions: Mapping[str, Sequence[str]], now_s: float
    ) -> int:
        """Add one more run of each message for each of its consumers; returns the runs added."""
        rows: list[dict[str, Any]] = []
        for seq, message_id, type_name in seqs:
            for consumer in subscriptions.get(type_name, ()):
                last = self._conn.execute(
                    select(func.max(work_queue.c.replay)).where(
                        work_queue.c.message_seq == seq, work_queue.c.consumer == consumer
                    )
                ).scalar_one_or_none()
                rows.append(
                    {
                        "message_seq": seq,
                        "message_id": message_id,
                        "consumer": consumer,
                        "status": "pending",
                        "attempts": 0,
                        "available_at": now_s,
                        "replay": (last or 0) + 1,
                    }
                )
        if rows:
            self._conn.execute(insert(work_queue), rows)
        return len(rows)

    def outstanding(self) -> tuple[int, float | None]:
        """How many items are pending or leased, and when the earliest pending one is due."""
        wq = work_queue
        count, due = self._conn.execute(
            select(func.count(), func.min(wq.c.available_at)).where(wq.c.status.in_(("pending", "leased")))
        ).one()
        return int(count), due

    def count_by_status(self) -> dict[str, int]:
        rows = self._conn.execute(select(work_queue.c.status, func.count()).group_by(work_queue.c.status))
        return {r[0]: int(r[1]) for r in rows}


class Inbox:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def seen(self, consumer: str, keys: Sequence[str]) -> set[str]:
        rows = self._conn.execute(
            select(inbox.c.message_id).where(inbox.c.consumer == consumer, inbox.c.message_id.in_(keys))
        )
        return {r.message_id for r in rows}

    def record(self, consumer: str, keys: Sequence[str]) -> None:
        """Mark keys as processed; a duplicate key raises IntegrityError and rolls back the effects."""
        fixed = {"consumer": consumer, "processed_at": self._now}
        insert_many(self._conn, inbox, ("message_id",), [(k,) for k in keys], fixed)
