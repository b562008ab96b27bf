"""Read models for the experience API: plain queries over the store, no writes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from handoffs.store.tables import (
    billed_sources,
    deliveries,
    exceptions,
    invoice_lines,
    invoices,
    messages,
    objects,
    time_entries,
    xrefs,
)

__all__ = ["ReadModels", "StoredObject"]


@dataclass(frozen=True, slots=True)
class StoredObject:
    type: str
    id: str
    version: int
    source_system: str
    source_version: str | None
    doc: str
    extra: dict[str, Any]


class ReadModels:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def stored(self, type_: str, id_: str) -> StoredObject | None:
        """The stored row of any canonical type, from whichever table keeps it."""
        if type_ == "time_entry":
            t = time_entries
            row = self._conn.execute(select(t).where(t.c.id == id_)).first()
            extra = {} if row is None else {"billing_state": row.billing_state}
        elif type_ == "invoice" and (
            row := self._conn.execute(select(invoices).where(invoices.c.id == id_)).first()
        ):
            return StoredObject(type_, row.id, 1, "hub", None, row.doc, {"status": row.status})
        else:
            row = self._conn.execute(
                select(objects).where(objects.c.type == type_, objects.c.id == id_)
            ).first()
            extra = {}
        if row is None:
            return None
        return StoredObject(type_, row.id, row.version, row.source_system, row.source_version, row.doc, extra)

    def message(self, message_id: str) -> tuple[int, str, str] | None:
        """(seq, message_id, type) of one stored message."""
        m = messages
        row = self._conn.execute(
            select(m.c.seq, m.c.message_id, m.c.type).where(m.c.message_id == message_id)
        ).first()
        return None if row is None else (row.seq, row.message_id, row.type)

    def project_ids(self, entities: Collection[str] | None) -> list[str] | None:
        """Ids of the projects of these legal entities (None: no filter)."""
        if entities is None:
            return None
        import orjson

        rows = self._conn.execute(select(objects.c.id, objects.c.doc).where(objects.c.type == "project"))
        return [r.id for r in rows if orjson.loads(r.doc).get("legal_entity_id") in entities]

    def timesheet(self, resource_id: str, period: str | None) -> list[Any]:
        t = time_entries
        query = (
            select(
                t.c.id, t.c.project_id, t.c.work_date, t.c.hours, t.c.status, t.c.billing_state, t.c.billable
            )
            .where(t.c.resource_id == resource_id)
            .order_by(t.c.work_date, t.c.id)
        )
        if period:
            query = query.where(t.c.period == period)
        return list(self._conn.execute(query))

    def customer_invoices(self, customer_id: str) -> list[Any]:
        i = invoices
        return list(
            self._conn.execute(
                select(
                    i.c.id,
                    i.c.kind,
                    i.c.legal_entity_id,
                    i.c.project_id,
                    i.c.period,
                    i.c.currency,
                    i.c.total,
                    i.c.status,
                    i.c.issue_date,
                )
                .where(i.c.customer_id == customer_id)
                .order_by(i.c.issue_date, i.c.id)
            )
        )

    def external_ids(self, type_: str, id_: str) -> dict[str, str]:
        rows = self._conn.execute(
            select(xrefs.c.system, xrefs.c.external_id).where(
                xrefs.c.canonical_type == type_, xrefs.c.canonical_id == id_
            )
        )
        return {r.system: r.external_id for r in rows}

    def deliveries_of(self, type_: str, id_: str) -> list[Any]:
        d = deliveries
        return list(
            self._conn.execute(
                select(
                    d.c.idempotency_key,
                    d.c.system,
                    d.c.status,
                    d.c.attempts,
                    d.c.external_id,
                    d.c.confirmed_at,
                )
                .where(d.c.object_type == type_, d.c.object_id == id_)
                .order_by(d.c.system)
            )
        )

    def invoice_line(self, invoice_id: str, line_id: str) -> Any | None:
        il = invoice_lines
        return self._conn.execute(select(il).where(il.c.invoice_id == invoice_id, il.c.id == line_id)).first()

    def line_sources(self, line_id: str) -> list[Any]:
        b = billed_sources
        return list(
            self._conn.execute(
                select(b.c.source_type, b.c.source_id, b.c.released_by)
                .where(b.c.invoice_line_id == line_id)
                .order_by(b.c.source_id)
            )
        )

    def kpis(self, entities: Collection[str] | None) -> dict[str, Any]:
        """Hours, billing and exceptions, for these legal entities (None: the whole firm)."""
        t, i = time_entries, invoices
        hours_q = select(t.c.status, t.c.billing_state, func.count(), t.c.hours).group_by(
            t.c.status, t.c.billing_state, t.c.hours
        )
        inv_q = select(i.c.currency, i.c.kind, func.count(), i.c.total).group_by(
            i.c.currency, i.c.kind, i.c.total
        )
        projects = self.project_ids(entities)
        if projects is not None:
            hours_q = hours_q.where(t.c.project_id.in_(projects or [""]))
            inv_q = inv_q.where(i.c.legal_entity_id.in_(list(entities or [""])))
        approved, billed = Decimal(0), Decimal(0)
        for status, state, count, hours in self._conn.execute(hours_q):
            if status == "approved":
                approved += hours * count
            if state == "billed":
                billed += hours * count
        invoiced: dict[str, Decimal] = {}
        count_invoices = 0
        for currency, kind, count, total in self._conn.execute(inv_q):
            invoiced[currency] = invoiced.get(currency, Decimal(0)) + total * count
            count_invoices += count if kind == "invoice" else 0
        open_exc = None
        if entities is None:
            open_exc = int(
                self._conn.execute(
                    select(func.count()).where(exceptions.c.state.in_(("open", "in_progress", "retrying")))
                ).scalar_one()
            )
        return {
            "approved_hours": approved,
            "billed_hours": billed,
            "unbilled_approved_hours": approved - billed,
            "invoices": count_invoices,
            "invoiced": invoiced,
            "open_exceptions": open_exc,
        }
