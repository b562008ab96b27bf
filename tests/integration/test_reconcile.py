"""Reconciliation finds and codes each kind of variance, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date

import orjson
from sqlalchemy import delete, insert, select, update

from handoffs.bootstrap import App
from handoffs.flows.operations import issue_credit_note
from handoffs.reconcile.controls import reconcile
from handoffs.store.tables import billed_sources, deliveries, invoice_lines, objects, time_entries
from tests.integration.test_billing_examples import FixedClock, lines
from tests.support.flow import drain, firm_lines, load


def codes(hub: App, period: str) -> Counter[str]:
    with hub.uow() as uow:
        return Counter(b.code for b in reconcile(uow.connection, period).breaks)


def test_a_clean_firm_reconciles_with_no_breaks(hub: App) -> None:
    load(hub, firm_lines(entries=300, projects=3))
    drain(hub)
    with hub.uow() as uow:
        report = reconcile(uow.connection, "2026-01")
    assert report.breaks == [] and report.checked["time_entries"] == 300 and report.checked["invoices"] == 3


def test_explained_variances_write_down_credit_note_and_late_period(fresh_hub) -> None:  # type: ignore[no-untyped-def]
    capped, late, credited = fresh_hub(), fresh_hub(), fresh_hub()
    for hub, name in ((capped, "tm-cap"), (late, "late-approval"), (credited, "credit-reinvoice")):
        hub.ports.clock = FixedClock("2026-05-15")
        load(hub, lines(name))
        drain(hub)
    with credited.uow() as uow:
        [first] = [inv for inv, _ in uow.invoices.iter_all()]
        issue_credit_note(uow, credited.ports, first.id, "wrong purchase order", date(2026, 5, 4))
        uow.commit()
    assert codes(capped, "2026-03") == Counter({"write_down": 3})  # two held whole, one split at the cap
    assert codes(late, "2026-03") == Counter({"out_of_period": 1})  # worked in March, billed in April
    assert codes(credited, "2026-04") == Counter({"credit_note": 2})
    for hub, period in ((capped, "2026-03"), (late, "2026-03"), (credited, "2026-04")):
        with hub.uow() as uow:
            assert reconcile(uow.connection, period).unexplained == []


def test_unexplained_variances_are_found_and_coded(hub: App) -> None:
    lines_ = firm_lines(entries=60, projects=2)
    bad_role = orjson.loads(next(x for x in lines_ if '"TE-00000001"' in x))
    bad_role["role"] = "astronaut"  # no rate: stays unpriced, never billed
    load(hub, [orjson.dumps(bad_role).decode() if '"TE-00000001"' in x else x for x in lines_])
    drain(hub)
    with hub.uow() as uow:
        conn = uow.connection
        billed = conn.execute(
            select(time_entries.c.id).where(time_entries.c.billing_state == "billed")
        ).scalars()
        unapproved, lost, *_ = list(billed)
        conn.execute(delete(billed_sources).where(billed_sources.c.source_id == lost))  # billing lost
        conn.execute(update(time_entries).where(time_entries.c.id == unapproved).values(status="rejected"))
        line = conn.execute(select(invoice_lines.c.id).order_by(invoice_lines.c.id)).scalars().first()
        conn.execute(update(invoice_lines).where(invoice_lines.c.id == line).values(unit_price="1.00"))
        journal = (
            conn.execute(
                select(objects.c.id).where(objects.c.type == "journal_entry", objects.c.id.like("JE-INV-%"))
            )
            .scalars()
            .first()
        )
        conn.execute(delete(objects).where(objects.c.type == "journal_entry", objects.c.id == journal))
        invoice_id = journal.removeprefix("JE-")
        row = conn.execute(select(deliveries).where(deliveries.c.object_id != invoice_id)).mappings().first()
        conn.execute(insert(deliveries).values({**row, "idempotency_key": row["idempotency_key"] + "#again"}))
        uow.commit()
    found = codes(hub, "2026-01")
    assert found["exception_open"] == 1  # the entry with no rate: its exception explains it
    assert found["not_billed"] == 1
    assert found["unapproved"] == 1
    assert found["rate_mismatch"] >= 1
    assert found["missing_posting"] == 1
    assert found["posted_twice"] == 1
