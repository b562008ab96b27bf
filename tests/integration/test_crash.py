"""Kill the worker with SIGKILL at random points, over and over, and lose or double nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from handoffs.bench.datagen import backfill_lines
from handoffs.bootstrap import build
from handoffs.connectors.fake.erp import FileErp
from handoffs.settings import Settings
from handoffs.store.tables import work_queue
from tests.support.flow import billing, load

KILLS = 20
ENTRIES = 8000


@pytest.mark.slow
def test_sigkilled_worker_bills_every_entry_exactly_once(database_url: str, tmp_path: Path) -> None:
    erp_path = tmp_path / "erp.db"
    erp_spec = f"file:{erp_path}?lost_ack_rate=0.1&error_rate=0.05&seed=11"
    hub = build(Settings(database_url=database_url, erp=erp_spec))
    lines = list(backfill_lines(entries=ENTRIES, projects=30, months=3, seed=3))
    assert load(hub, lines).failed == 0
    env = {
        **os.environ,
        "HANDOFFS_DATABASE_URL": database_url,
        "HANDOFFS_ERP": erp_spec,
        "HANDOFFS_BATCH_SIZE": "5",
        "HANDOFFS_LEASE_SECONDS": "1",
        "HANDOFFS_BACKOFF_BASE": "0.05",
        "HANDOFFS_MAX_ATTEMPTS": "50",
    }
    worker = [sys.executable, "-m", "handoffs.cli.main", "worker", "--json"]
    rng = random.Random(20261125)
    kills_mid_work = 0
    # The hub's own reads on SQLite queue behind the worker's writes (BEGIN IMMEDIATE); a plain
    # reader sees the queue at once, so the kill lands when the test means it to.
    reader = create_engine(database_url, poolclass=NullPool)
    ask = select(func.count()).select_from(work_queue).where(work_queue.c.status.in_(("pending", "leased")))

    def left() -> int:
        with reader.connect() as conn:
            return int(conn.execute(ask).scalar_one())

    outstanding = left()
    for _ in range(KILLS * 4):
        proc = subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and left() == outstanding:
            time.sleep(0.01)  # wait for start-up: the kill must land while it works
        # Then a random point mid-work: a random moment, but before it has done a tenth of what
        # is left, so that a fast machine still takes its twenty kills before the work runs out.
        kill_at, budget = time.monotonic() + rng.uniform(0, 0.4), max(5, outstanding // 10)
        while time.monotonic() < kill_at and outstanding - left() < budget:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        before, outstanding = outstanding, left()
        if outstanding != before:  # it was processing when it died
            kills_mid_work += 1
        if outstanding == 0 or kills_mid_work >= KILLS:
            break
    reader.dispose()
    assert kills_mid_work >= KILLS, f"the work finished after {kills_mid_work} kills; give it more to do"
    finished = subprocess.run([*worker, "--until-idle"], env=env, capture_output=True, timeout=300)
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]

    check = billing(hub)
    assert check.approved_billable_entries == ENTRIES
    assert check.billed_entries == ENTRIES
    assert check.double_billed_entries == 0
    assert check.unbilled_by_state == {}
    assert check.invoices_total_mismatch == [] and check.lines_rate_mismatch == []
    with hub.uow() as uow:
        invoices = {inv.id: inv for inv, _ in uow.invoices.iter_all()}
        assert uow.deliveries.count_by_status() == {"confirmed": len(invoices)}
        assert uow.exceptions.count_by_category() == {}
    received = FileErp(erp_path).invoices()  # one row per idempotency key, by construction
    assert sorted(i for i, _, _ in received.values()) == sorted(invoices)
    for invoice_id, currency, total in received.values():
        assert (currency, total) == (invoices[invoice_id].currency, str(invoices[invoice_id].total.amount))
    calls = FileErp(erp_path).call_counts()
    assert sum(calls.values()) >= len(invoices)
    print(
        f"\n{KILLS} required; {kills_mid_work} SIGKILLs mid-work; {len(invoices)} invoices; "
        f"{sum(calls.values())} ERP calls for {len(calls)} idempotency keys; {len(received)} ERP records"
    )
    hub.close()
