"""Exceptions: everything that needs a person, with the original payload kept whole."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, case, func, insert, select, update

from handoffs.store.repositories.audit import append
from handoffs.store.serde import message_from_json
from handoffs.store.tables import exceptions, invoice_lines, invoices, messages, time_entries

__all__ = ["RUNBOOKS", "ExceptionRecord", "ExceptionRepository"]

_OPEN = ("open", "in_progress", "retrying")

RUNBOOKS = {
    "validation": "docs/runbooks.md#validation",
    "dead_letter": "docs/runbooks.md#dead-letter",
    "billed_entry_changed": "docs/runbooks.md#billed-entry-changed",
    "retries_exhausted": "docs/runbooks.md#retries-exhausted",
    "reconciliation_break": "docs/reconciliation.md",
    "ownership": "docs/runbooks.md#ownership",
    "staffing": "docs/runbooks.md#staffing",
    "mapping": "docs/runbooks.md#mapping",
    "schema_drift": "docs/runbooks.md#mapping",
    "delivery_failed": "docs/runbooks.md#delivery-failed",
    "missing_reference": "docs/runbooks.md#missing-reference",
    "configuration": "docs/runbooks.md#configuration",
    "auth": "docs/runbooks.md#configuration",
    "rejected": "docs/runbooks.md#delivery-failed",
    "system_unavailable": "docs/runbooks.md#retries-exhausted",
    "timeout": "docs/runbooks.md#retries-exhausted",
    "lost_ack": "docs/runbooks.md#retries-exhausted",
    "pending": "docs/runbooks.md#retries-exhausted",
    "paging": "docs/runbooks.md#retries-exhausted",
    "read_back": "docs/runbooks.md#read-back",
    "uncertain": "docs/runbooks.md#uncertain",
    "write_back": "docs/runbooks.md#write-back",
    "billing_held": "docs/runbooks.md#billing-held",
}


@dataclass(frozen=True, slots=True)
class ExceptionRecord:
    id: int
    category: str
    state: str
    priority: int
    owner: str | None
    source: str
    reason: str
    raw: str
    detail: dict[str, Any]
    message_id: str | None
    consumer: str | None
    work_id: int | None
    attempts: int
    object_type: str | None
    object_id: str | None
    correlation_id: str | None
    created_at: datetime
    resolution: str | None
    legal_entity_id: str | None = None  # the entity of the API client record that raised it

    @property
    def runbook(self) -> str:
        return RUNBOOKS.get(self.category, "docs/runbooks.md")


class ExceptionRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now
        self.added: builtins.list[int] = []  # ids opened through this unit of work, in order

    def add(
        self,
        *,
        category: str,
        source: str,
        reason: str,
        raw: str,
        detail: dict[str, Any] | None = None,
        priority: int = 3,
        message_id: str | None = None,
        consumer: str | None = None,
        work_id: int | None = None,
        attempts: int = 0,
        object_type: str | None = None,
        object_id: str | None = None,
        correlation_id: str | None = None,
        fingerprint: str | None = None,
    ) -> int | None:
        """Open an exception; None when an unresolved one with the same fingerprint exists."""
        if fingerprint is not None:
            existing = self._conn.execute(
                select(exceptions.c.id).where(
                    exceptions.c.fingerprint == fingerprint,
                    exceptions.c.state.in_(("open", "in_progress", "retrying")),
                )
            ).first()
            if existing is not None:
                return None
        result = self._conn.execute(
            insert(exceptions)
            .values(
                category=category,
                state="open",
                priority=priority,
                source=source,
                reason=reason,
                raw=raw,
                detail=orjson.dumps(detail or {}, option=orjson.OPT_SORT_KEYS).decode(),
                message_id=message_id,
                consumer=consumer,
                work_id=work_id,
                attempts=attempts,
                object_type=object_type,
                object_id=object_id,
                correlation_id=correlation_id,
                fingerprint=fingerprint,
                created_at=self._now,
                updated_at=self._now,
            )
            .returning(exceptions.c.id)
        )
        self.added.append(int(result.scalar_one()))
        return self.added[-1]

    def set_entities(self, entities: dict[int, str]) -> None:
        """Give exceptions (id -> legal entity) the entity they belong to."""
        for exception_id, entity in entities.items():
            self._conn.execute(
                update(exceptions).where(exceptions.c.id == exception_id).values(legal_entity_id=entity)
            )

    def raised_since(self, source: str, since: datetime) -> tuple[int, datetime | None]:
        """How many exceptions ``source`` opened at or after ``since``, and when the first was."""
        c = exceptions.c
        raised = (c.source == source, c.created_at >= since)
        count = int(self._conn.execute(select(func.count()).where(*raised)).scalar_one())
        first = self._conn.execute(select(c.created_at).where(*raised).order_by(c.created_at).limit(1))
        return count, first.scalar()

    def list(
        self, *, state: str | None = None, category: str | None = None, limit: int | None = None
    ) -> list[ExceptionRecord]:
        query = select(exceptions).order_by(exceptions.c.id)
        if state:
            query = query.where(exceptions.c.state == state)
        if category:
            query = query.where(exceptions.c.category == category)
        if limit:
            query = query.limit(limit)
        return [_record(r) for r in self._conn.execute(query)]

    def get(self, exception_id: int) -> ExceptionRecord | None:
        row = self._conn.execute(select(exceptions).where(exceptions.c.id == exception_id)).first()
        return None if row is None else _record(row)

    def set_state(self, exception_id: int, state: str, resolution: str | None = None) -> None:
        self._conn.execute(
            update(exceptions)
            .where(exceptions.c.id == exception_id)
            .values(state=state, resolution=resolution, updated_at=self._now)
        )

    def hold_again(self, exception_id: int, *, category: str, reason: str, detail: dict[str, Any]) -> None:
        """A retry failed again: the exception stays open with the new reason, one more attempt counted."""
        self._conn.execute(
            update(exceptions)
            .where(exceptions.c.id == exception_id)
            .values(
                state="open",
                category=category,
                reason=reason,
                detail=orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode(),
                attempts=exceptions.c.attempts + 1,
                updated_at=self._now,
            )
        )

    def supersede(self, object_type: str, object_id: str, version: str) -> builtins.list[int]:
        """A corrected version of a record was accepted: resolve its older validation exceptions.

        Every open ``validation`` exception on the record that was not raised for ``version``
        itself is resolved with the note "superseded by version N", and each resolution is
        written to the audit log in the same transaction. Returns the ids resolved.
        """
        c = exceptions.c
        rows = self._conn.execute(
            select(c.id, c.state, c.detail).where(
                c.object_type == object_type,
                c.object_id == object_id,
                c.category == "validation",
                c.state.in_(_OPEN),
            )
        ).all()
        note = f"superseded by version {version}"
        resolved = []
        for row in rows:
            raised_for = (orjson.loads(row.detail) if row.detail else {}).get("record_version")
            if raised_for is not None and str(raised_for) == version:
                continue
            self.set_state(row.id, "resolved", note)
            append(
                self._conn,
                at=self._now,
                actor="handoffs",
                action="flow.supersede_exception",
                target=f"exception:{row.id}",
                before={"state": row.state, "record_version": raised_for},
                after={"state": "resolved", "resolution": note},
            )
            resolved.append(int(row.id))
        return resolved

    def assign(self, exception_id: int, owner: str) -> None:
        self._conn.execute(
            update(exceptions)
            .where(exceptions.c.id == exception_id)
            .values(
                owner=owner,
                state=case((exceptions.c.state == "open", "in_progress"), else_=exceptions.c.state),
                updated_at=self._now,
            )
        )

    def reopen_retried(self, work_id: int, reason: str, attempts: int) -> bool:
        """A retried work item failed again: its exception opens again (no second row)."""
        result = self._conn.execute(
            update(exceptions)
            .where(exceptions.c.work_id == work_id, exceptions.c.state == "retrying")
            .values(state="open", reason=reason, attempts=attempts, updated_at=self._now)
            .returning(exceptions.c.id)
        )
        return result.first() is not None

    def resolve_retried(self, work_ids: Sequence[int]) -> None:
        """Exceptions whose work was retried by a person and has now succeeded are resolved."""
        if work_ids:
            self._conn.execute(
                update(exceptions)
                .where(exceptions.c.work_id.in_(work_ids), exceptions.c.state == "retrying")
                .values(state="resolved", resolution="retried successfully", updated_at=self._now)
            )

    def count_by_category(self, state: str | None = None) -> dict[str, int]:
        query = select(exceptions.c.category, func.count()).group_by(exceptions.c.category)
        if state:
            query = query.where(exceptions.c.state == state)
        return {r[0]: int(r[1]) for r in self._conn.execute(query)}

    # What an exception's replay reads: its messages, and the footprint it could change.

    def replay_messages(self, record: ExceptionRecord) -> builtins.list[tuple[int, str, str]]:
        """(seq, message id, type) a replay runs: the exception's own message, else its flow's."""
        query = select(messages.c.seq, messages.c.message_id, messages.c.type).order_by(messages.c.seq)
        if record.message_id:
            query = query.where(messages.c.message_id == record.message_id)
        elif record.correlation_id:
            query = query.where(messages.c.correlation_id == record.correlation_id)
        else:
            return []
        return [(r.seq, r.message_id, r.type) for r in self._conn.execute(query)]

    def load_messages(self, seqs: Sequence[int]) -> dict[int, Any]:
        """The stored messages by sequence number, decoded."""
        found: dict[int, Any] = {}
        for i in range(0, len(seqs), 500):
            query = select(messages.c.seq, messages.c.type, messages.c.payload).where(
                messages.c.seq.in_(list(seqs[i : i + 500]))
            )
            found.update({r.seq: message_from_json(r.type, r.payload) for r in self._conn.execute(query)})
        return found

    def footprint(self, project_ids: Sequence[str]) -> dict[str, Any]:
        """Invoices (id -> row) and time entries (id -> state, hours, rate, currency) of projects."""
        ids = sorted(project_ids)
        inv = invoices.c
        heads = {
            r.id: r
            for r in self._conn.execute(
                select(inv.id, inv.project_id, inv.period, inv.currency, inv.total, inv.status).where(
                    inv.project_id.in_(ids)
                )
            )
        }
        te = time_entries.c
        entries = {
            r.id: (r.billing_state, r.hours, r.rate, r.currency)
            for r in self._conn.execute(
                select(te.id, te.billing_state, te.hours, te.rate, te.currency).where(te.project_id.in_(ids))
            )
        }
        return {"invoices": heads, "entries": entries}

    def lines_of(self, invoice_ids: Sequence[str]) -> dict[str, builtins.list[dict[str, str]]]:
        """Each invoice's lines: id, kind, quantity, unit price, amount (as text)."""
        found: dict[str, builtins.list[dict[str, str]]] = {}
        if not invoice_ids:
            return found
        il = invoice_lines.c
        rows = self._conn.execute(
            select(il.invoice_id, il.id, il.kind, il.quantity, il.unit_price, il.amount)
            .where(il.invoice_id.in_(list(invoice_ids)))
            .order_by(il.invoice_id, il.line_no)
        )
        for r in rows:
            found.setdefault(r.invoice_id, []).append(
                {
                    "id": r.id,
                    "kind": r.kind,
                    "quantity": str(r.quantity),
                    "unit_price": str(r.unit_price),
                    "amount": str(r.amount),
                }
            )
        return found


def _record(row: Any) -> ExceptionRecord:
    return ExceptionRecord(
        id=row.id,
        category=row.category,
        state=row.state,
        priority=row.priority,
        owner=row.owner,
        source=row.source,
        reason=row.reason,
        raw=row.raw,
        detail=orjson.loads(row.detail),
        message_id=row.message_id,
        consumer=row.consumer,
        work_id=row.work_id,
        attempts=row.attempts,
        object_type=row.object_type,
        object_id=row.object_id,
        correlation_id=row.correlation_id,
        created_at=row.created_at,
        resolution=row.resolution,
        legal_entity_id=row.legal_entity_id,
    )
