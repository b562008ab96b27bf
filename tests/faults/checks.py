"""One checker for every row of the fault matrix, and the matrix the terminal summary prints.

Whatever the fault, a run must end with: no record lost (each one stored, or held by an
exception), nothing billed twice (hub) or posted twice (hub and the ERP's own records), the
journals balanced, and every failure an exception that holds its payload.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson
from sqlalchemy import select

from handoffs.bootstrap import App
from handoffs.domain.journals import journals_balanced
from handoffs.reconcile.billing import check_billing
from handoffs.store.tables import deliveries, exceptions, invoices, time_entries, work_queue

__all__ = ["MATRIX", "Row", "check", "lost_records"]


@dataclass
class Row:
    """One fault on one database, as the matrix prints it."""

    fault: str
    db: str
    entries: int = 0
    lost: int = 0
    billed_once: bool = False
    posted_once: bool = False
    journals_balanced: bool = False
    exceptions_with_payload: bool = False
    detail: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.billed_once
            and self.posted_once
            and self.journals_balanced
            and self.exceptions_with_payload
            and not self.problems
        )


MATRIX: list[Row] = []  # filled by the tests, printed by tests/faults/conftest.py


def lost_records(hub: App, expected: Mapping[str, str]) -> list[str]:
    """Keys of ``expected`` (entry id -> its source text) neither stored nor held by an exception."""
    with hub.uow() as uow:
        stored = {r[0] for r in uow.connection.execute(select(time_entries.c.id))}
        raws = [r[0] for r in uow.connection.execute(select(exceptions.c.raw))]
    missing = [key for key in expected if key not in stored]
    return [key for key in missing if not any(expected[key] in raw or key in raw for raw in raws)]


def check(
    hub: App,
    *,
    fault: str,
    db: str,
    entries: int,
    lost: int,
    erp_records: Mapping[str, Counter[str]],
    detail: str = "",
) -> Row:
    """Check the four invariants on ``hub``'s store and on what each ERP holds.

    Args:
        entries: records the run had to account for (the matrix's ``entries`` column).
        lost: how many of them were neither stored nor held by an exception.
        erp_records: per ERP system, how many records it holds per hub invoice id.
    """
    row = Row(fault, db, entries=entries, lost=lost, detail=detail)
    with hub.uow() as uow:
        conn = uow.connection
        billing = check_billing(conn)
        journals = uow.finance.journal_entries()
        hub_invoices = {r[0] for r in conn.execute(select(invoices.c.id))}
        invoice_deliveries = select(deliveries.c.system, deliveries.c.object_id, deliveries.c.status).where(
            deliveries.c.object_type == "invoice"
        )
        sent = list(conn.execute(invoice_deliveries))
        problems = list(
            conn.execute(
                select(
                    exceptions.c.id,
                    exceptions.c.state,
                    exceptions.c.raw,
                    exceptions.c.work_id,
                    exceptions.c.consumer,
                )
            )
        )
        dead = {r[0] for r in conn.execute(select(work_queue.c.id).where(work_queue.c.status == "dead"))}
        waiting = conn.execute(
            select(work_queue.c.id).where(work_queue.c.status.in_(("pending", "leased")))
        ).all()
    if lost:
        row.problems.append(f"{lost} records lost")
    if waiting:
        row.problems.append(f"{len(waiting)} work items never finished")

    row.billed_once = billing.ok and billing.double_billed_entries == 0
    if not billing.ok:
        row.problems.append(f"billing check: {billing.as_dict()}")

    row.posted_once = True
    confirmed = {(system, invoice) for system, invoice, status in sent if status == "confirmed"}
    for system, held in erp_records.items():
        for invoice, n in held.items():
            if n > 1 or invoice not in hub_invoices:
                row.posted_once = False
                row.problems.append(f"{system} holds {n} records of invoice {invoice}")
        for sys_, invoice in confirmed:
            if sys_ == system and held.get(invoice, 0) != 1:
                row.posted_once = False
                row.problems.append(f"{system} does not hold confirmed invoice {invoice}")
    open_raws = [raw for _, state, raw, _, _ in problems if state != "resolved"]
    for system, invoice, status in sent:
        if status != "confirmed" and not any(invoice in raw for raw in open_raws):
            row.posted_once = False
            row.problems.append(f"delivery of {invoice} to {system} is {status} with no open exception")

    row.journals_balanced = journals_balanced(journals) and (bool(journals) or not hub_invoices)

    with_payload = True
    for exc_id, _, raw, _, consumer in problems:
        if not raw.strip():
            with_payload = False
            row.problems.append(f"exception {exc_id} holds no payload")
        elif consumer is not None:  # a dead letter holds the message itself
            try:
                orjson.loads(raw)
            except orjson.JSONDecodeError:
                with_payload = False
                row.problems.append(f"exception {exc_id} holds no message payload")
    excepted_work = {work_id for _, _, _, work_id, _ in problems if work_id is not None}
    if dead - excepted_work:
        with_payload = False
        row.problems.append(f"dead work items without an exception: {sorted(dead - excepted_work)[:5]}")
    row.exceptions_with_payload = with_payload
    return row
