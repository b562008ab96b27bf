"""Invoices, their lines, and the billed-source links that make billing exactly-once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from handoffs.domain.billing import Invoice
from handoffs.store.bulk import insert_many
from handoffs.store.serde import from_doc, to_doc
from handoffs.store.tables import billed_sources, invoice_lines, invoices, line_credits

__all__ = ["InvoiceRepository"]

_LINK_COLUMNS = ("source_type", "source_id", "invoice_line_id")


class InvoiceRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def add(self, invoice: Invoice, correlation_id: str) -> None:
        """Store the invoice, its lines and one live link per billed source.

        The database refuses a second live link for the same source (a partial unique
        index), so a bug elsewhere cannot bill an entry twice: the transaction fails.
        """
        now = self._now
        self._conn.execute(
            insert(invoices).values(
                id=invoice.id,
                kind=invoice.kind,
                project_id=invoice.project_id,
                contract_id=invoice.contract_id,
                customer_id=invoice.customer_id,
                legal_entity_id=invoice.legal_entity_id,
                period=invoice.period,
                currency=invoice.currency,
                subtotal=invoice.subtotal.amount,
                tax=invoice.tax.amount,
                total=invoice.total.amount,
                issue_date=invoice.issue_date,
                status="generated",
                credits_invoice_id=invoice.credits_invoice_id,
                correlation_id=correlation_id,
                doc=to_doc(invoice),
                created_at=now,
            )
        )
        self._conn.execute(
            insert(invoice_lines),
            [
                {
                    "id": line.id,
                    "invoice_id": invoice.id,
                    "line_no": n,
                    "kind": line.kind,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price.amount,
                    "amount": line.amount.amount,
                    "tax": line.tax.amount,
                    "currency": line.amount.currency,
                    "role": line.role,
                    "resource_id": line.resource_id,
                    "rate_card_version": line.rate_card_version,
                }
                for n, line in enumerate(invoice.lines, start=1)
            ],
        )
        if invoice.kind == "invoice":
            links = [(s.type, s.id, line.id) for line in invoice.lines for s in line.sources]
            fixed = {"invoice_id": invoice.id, "created_at": now}
            insert_many(self._conn, billed_sources, _LINK_COLUMNS, links, fixed)
        if invoice.kind == "credit_note":  # what a credit note credits may be billed again
            self._credit_lines(invoice)
            for line in invoice.lines:
                for s in line.sources:
                    self._conn.execute(
                        update(billed_sources)
                        .where(
                            billed_sources.c.source_type == s.type,
                            billed_sources.c.source_id == s.id,
                            billed_sources.c.released_by.is_(None),
                        )
                        .values(released_by=invoice.id)
                    )

    def _credit_lines(self, note: Invoice) -> None:
        """One row per credited source of each credited line: the primary key refuses a second
        credit of the same source of a line (raising IntegrityError, failing the transaction)."""
        rows = []
        for line in note.lines:
            released: list[tuple[str, str]] = [
                (s.type, s.id) for s in line.sources if s.type != "invoice_line"
            ]
            for target in (s.id for s in line.sources if s.type == "invoice_line"):
                for source_type, source_id in released or [("amount", line.id)]:
                    rows.append(
                        {
                            "credited_line_id": target,
                            "source_type": source_type,
                            "source_id": source_id,
                            "credit_line_id": line.id,
                            "credit_note_id": note.id,
                            "created_at": self._now,
                        }
                    )
        if rows:
            self._conn.execute(insert(line_credits), rows)

    def count_for(self, project_id: str, period: str) -> int:
        query = select(func.count()).where(invoices.c.project_id == project_id, invoices.c.period == period)
        return int(self._conn.execute(query).scalar_one())

    def get(self, invoice_id: str) -> Invoice | None:
        row = self._conn.execute(select(invoices.c.doc).where(invoices.c.id == invoice_id)).first()
        return None if row is None else from_doc(Invoice, row.doc)

    def for_contract(self, contract_id: str) -> list[Invoice]:
        rows = self._conn.execute(
            select(invoices.c.doc)
            .where(invoices.c.contract_id == contract_id)
            .order_by(invoices.c.created_at, invoices.c.id)
        )
        return [from_doc(Invoice, r.doc) for r in rows]

    def billed(self, source_type: str, ids: list[str]) -> set[str]:
        """Which of these sources are on a live invoice line."""
        rows = self._conn.execute(
            select(billed_sources.c.source_id).where(
                billed_sources.c.source_type == source_type,
                billed_sources.c.source_id.in_(ids),
                billed_sources.c.released_by.is_(None),
            )
        )
        return {r.source_id for r in rows}

    def invoice_of_line(self, line_id: str) -> str | None:
        query = select(invoice_lines.c.invoice_id).where(invoice_lines.c.id == line_id)
        return self._conn.execute(query).scalar_one_or_none()

    def sources_of_line(self, line_id: str) -> list[tuple[str, str, str | None]]:
        rows = self._conn.execute(
            select(billed_sources.c.source_type, billed_sources.c.source_id, billed_sources.c.released_by)
            .where(billed_sources.c.invoice_line_id == line_id)
            .order_by(billed_sources.c.source_id)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def status(self, invoice_id: str) -> str | None:
        row = self._conn.execute(select(invoices.c.status).where(invoices.c.id == invoice_id)).first()
        return None if row is None else str(row.status)

    def set_status(self, invoice_id: str, status: str) -> None:
        self._conn.execute(update(invoices).where(invoices.c.id == invoice_id).values(status=status))

    def correlation_id(self, invoice_id: str) -> str:
        query = select(invoices.c.correlation_id).where(invoices.c.id == invoice_id)
        return str(self._conn.execute(query).scalar_one())

    def iter_all(self) -> Iterator[tuple[Invoice, str]]:
        rows = self._conn.execute(select(invoices.c.doc, invoices.c.status).order_by(invoices.c.id))
        for row in rows:
            yield from_doc(Invoice, row.doc), str(row.status)

    def live_billings(self) -> dict[tuple[str, str], int]:
        """How many live invoice lines bill each source (exactly one is the only right answer)."""
        rows = self._conn.execute(
            select(billed_sources.c.source_type, billed_sources.c.source_id, func.count())
            .where(billed_sources.c.released_by.is_(None))
            .group_by(billed_sources.c.source_type, billed_sources.c.source_id)
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}
