"""Revenue events, journal entries and the proposals a person decides.

Revenue events and journal entries are canonical objects (kept with their history in
``objects``); proposals have their own table because they carry a decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from handoffs.domain.billing import JournalEntry, RevenueEvent
from handoffs.domain.catalog import CanonicalRecord
from handoffs.store.repositories.objects import ObjectRepository
from handoffs.store.tables import proposals, recognitions

__all__ = ["FinanceRepository", "Proposal"]

HUB = "handoffs"


class Proposal:
    """A stored proposal: what it is, its state, and its document."""

    def __init__(self, row: Any) -> None:
        self.id: str = row.id
        self.kind: str = row.kind
        self.contract_id: str = row.contract_id
        self.project_id: str = row.project_id
        self.period: str = row.period
        self.state: str = row.state
        self.amount: Decimal = row.amount
        self.currency: str = row.currency
        self.doc: dict[str, Any] = orjson.loads(row.doc)
        self.reason: str | None = row.reason


class FinanceRepository:
    def __init__(self, conn: Connection, now: datetime, objects: ObjectRepository) -> None:
        self._conn = conn
        self._now = now
        self._objects = objects

    def revenue_events(self, contract_id: str | None = None) -> list[RevenueEvent]:
        events: list[RevenueEvent] = self._objects.all("revenue_event")
        return [e for e in events if contract_id is None or e.contract_id == contract_id]

    def journal_entries(self) -> list[JournalEntry]:
        entries: list[JournalEntry] = self._objects.all("journal_entry")
        return entries

    def add_revenue_event(self, event: RevenueEvent) -> None:
        self._objects.upsert([CanonicalRecord("revenue_event", event, HUB, None)])

    def add_journal(self, entry: JournalEntry) -> None:
        self._objects.upsert([CanonicalRecord("journal_entry", entry, HUB, None)])

    def add_proposal(
        self,
        *,
        id: str,
        kind: str,
        contract_id: str,
        project_id: str,
        period: str,
        amount: Decimal,
        currency: str,
        doc: dict[str, Any],
    ) -> None:
        self._conn.execute(
            insert(proposals).values(
                id=id,
                kind=kind,
                contract_id=contract_id,
                project_id=project_id,
                period=period,
                state="open",
                amount=amount,
                currency=currency,
                doc=orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode(),
                created_at=self._now,
            )
        )

    def proposals(self, *, contract_id: str | None = None, state: str | None = None) -> list[Proposal]:
        query = select(proposals).order_by(proposals.c.created_at, proposals.c.id)
        if contract_id is not None:
            query = query.where(proposals.c.contract_id == contract_id)
        if state is not None:
            query = query.where(proposals.c.state == state)
        return [Proposal(r) for r in self._conn.execute(query)]

    def held_hours(self, contract_id: str) -> dict[str, Decimal]:
        """Hours held on write-down proposals that are open or approved (written off)."""
        held: dict[str, Decimal] = {}
        for p in self.proposals(contract_id=contract_id):
            if p.kind != "write_down" or p.state == "rejected":
                continue
            for item in p.doc["items"]:
                held[item["entry"]] = held.get(item["entry"], Decimal(0)) + Decimal(item["hours"])
        return held

    def decide(self, proposal_id: str, state: str, by: str, reason: str) -> None:
        self._conn.execute(
            update(proposals)
            .where(proposals.c.id == proposal_id, proposals.c.state == "open")
            .values(state=state, decided_at=self._now, decided_by=by, reason=reason)
        )

    def recognised(self, source_type: str, ids: Sequence[str]) -> set[str]:
        rows = self._conn.execute(
            select(recognitions.c.source_id).where(
                recognitions.c.source_type == source_type, recognitions.c.source_id.in_(ids)
            )
        )
        return {r.source_id for r in rows}

    def mark_recognised(self, source_type: str, ids: Sequence[str], event_id: str) -> None:
        if ids:
            self._conn.execute(
                insert(recognitions),
                [{"source_type": source_type, "source_id": i, "event_id": event_id} for i in ids],
            )

    def journal(self, entry_id: str) -> JournalEntry | None:
        found: JournalEntry | None = self._objects.get("journal_entry", entry_id)
        return found

    def count(self, ids: Sequence[str]) -> int:
        return len(self._conn.execute(select(proposals.c.id).where(proposals.c.id.in_(ids))).all())
