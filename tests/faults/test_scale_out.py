"""Scale-out on PostgreSQL: three worker processes share one database; one is killed mid-work.

Its leased batch is taken over when the lease expires, every entry is billed exactly once,
and what must stay in order does: an older version of an entry arriving late never wins,
and every invoice is generated before it is sent to the ERP, and sent before it is posted.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from handoffs.bench.datagen import backfill_lines
from handoffs.bootstrap import build
from handoffs.connectors.fake.erp import FileErp
from handoffs.settings import Settings
from handoffs.store.tables import deliveries, invoices, messages, proposals, work_queue
from tests.faults.checks import MATRIX, check, lost_records
from tests.support.crash import WORKER, QueueReader, worker_env
from tests.support.flow import billing, load

ENTRIES = 3000
LATE = 60  # entries whose newer version arrives first and whose older one arrives while workers run


def _versions(lines: list[str]) -> tuple[list[str], list[str], dict[str, str]]:
    """The file with LATE entries at version 3 (more hours), their version 1, and the v3 hours."""
    first, older, hours = [], [], {}
    for line in lines:
        doc = orjson.loads(line)
        if doc["type"] == "time_entry" and len(hours) < LATE and int(doc["id"][3:]) % 37 == 0:
            hours[doc["id"]] = str(Decimal(doc["hours"]) + Decimal("0.25"))  # new hours
            newer = {**doc, "hours": hours[doc["id"]], "source_version": 3}
            first.append(orjson.dumps(newer).decode())
            older.append(line)
        else:
            first.append(line)
    return first, older, hours


def _leased_by(reader: QueueReader, owner: str) -> set[int]:
    with reader._engine.connect() as conn:
        rows = conn.execute(
            select(work_queue.c.id).where(work_queue.c.status == "leased", work_queue.c.lease_owner == owner)
        )
        return {r[0] for r in rows}


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_three_workers_share_postgres_and_take_over_a_killed_one(database_url: str, tmp_path: Path) -> None:
    erp_path = tmp_path / "erp.db"
    erp_spec = f"file:{erp_path}?lost_ack_rate=0.05&seed=2"
    hub = build(Settings(database_url=database_url, erp=erp_spec))
    lines = list(backfill_lines(entries=ENTRIES, projects=15, months=2, seed=21))
    first, older, new_hours = _versions(lines)
    assert len(new_hours) == LATE
    assert load(hub, first).failed == 0
    env = worker_env(database_url, erp_spec, HANDOFFS_BATCH_SIZE="10", HANDOFFS_LEASE_SECONDS="2")
    workers = [
        subprocess.Popen(WORKER, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)
    ]
    victim = workers[0]
    owner = f"{socket.gethostname()}:{victim.pid}"
    reader = QueueReader(database_url)
    try:
        deadline = time.monotonic() + 60
        held: set[int] = set()
        while not held and time.monotonic() < deadline:
            held = _leased_by(reader, owner)  # kill it while it holds a batch
            time.sleep(0.005)
        assert held, "the first worker never held a batch"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        stale = load(hub, older)  # the older versions arrive late, while the others work
        assert dict(stale.outcomes) == {"stale": LATE}
        deadline = time.monotonic() + 180
        while reader.left() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reader.left() == 0, "the survivors did not finish the work"
        with reader._engine.connect() as conn:
            taken_over = conn.execute(
                select(work_queue.c.status, work_queue.c.lease_owner).where(work_queue.c.id.in_(held))
            ).all()
    finally:
        reader.close()
        for w in workers[1:]:
            w.send_signal(signal.SIGTERM)
    outputs = [w.communicate(timeout=60) for w in workers[1:]]
    for w, (_, err) in zip(workers[1:], outputs, strict=True):
        assert w.returncode == 0, err.decode()[-2000:]
    survivors: list[dict[str, Any]] = [orjson.loads(out) for out, _ in outputs]
    assert all(s["processed"] > 0 for s in survivors)  # both shared the work
    assert {status for status, _ in taken_over} == {"done"}  # the killed worker's batch was finished

    check_ = billing(hub)
    assert check_.approved_billable_entries == ENTRIES == check_.billed_entries
    assert check_.double_billed_entries == 0 and check_.unbilled_by_state == {}
    with hub.uow() as uow:
        conn = uow.connection
        # The newer version won (and the billing check above priced the lines from it); the older
        # one neither replaced it nor opened a credit-and-rebill proposal.
        for entry_id, hours in new_hours.items():
            assert str(uow.time_entries.get(entry_id).entry.hours) == hours
        assert conn.execute(select(proposals.c.id)).all() == []
        # Every invoice: generated, then sent, then posted, in that order.
        log = conn.execute(
            select(messages.c.seq, messages.c.type, messages.c.payload).where(
                messages.c.type.in_(("InvoiceGenerated", "PostInvoice", "InvoicePosted"))
            )
        ).all()
        made = {r[0]: r[1] for r in conn.execute(select(invoices.c.id, invoices.c.created_at))}
        sent = conn.execute(
            select(deliveries.c.object_id, deliveries.c.created_at, deliveries.c.confirmed_at)
        ).all()
    order: dict[str, dict[str, int]] = {}
    for seq, kind, payload in log:
        order.setdefault(orjson.loads(payload)["invoice_id"], {})[kind] = seq
    assert set(order) == set(made)
    for invoice_id, seqs in order.items():
        assert seqs["InvoiceGenerated"] < seqs["PostInvoice"] < seqs["InvoicePosted"], invoice_id
    for invoice_id, created, confirmed in sent:
        assert made[invoice_id] <= created <= confirmed
    erp = Counter(i for i, _, _ in FileErp(erp_path).invoices().values())
    expected = {e: line for e, line in ((orjson.loads(x)["id"], x) for x in first) if e.startswith("TE-")}
    row = check(
        hub,
        fault="3 workers, 1 SIGKILLed (scale-out)",
        db="postgres",
        entries=ENTRIES,
        lost=len(lost_records(hub, expected)),
        erp_records={"erp": erp},
        detail=f"{len(held)} leased items taken over; {LATE} late older versions refused",
    )
    MATRIX.append(row)
    assert row.passed, row.problems
    hub.close()
