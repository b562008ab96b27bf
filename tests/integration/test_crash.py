"""Kill the worker with SIGKILL at random points, over and over, and lose or double nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoffs.bench.datagen import backfill_lines
from handoffs.bootstrap import build
from handoffs.connectors.fake.erp import FileErp
from handoffs.settings import Settings
from tests.support.crash import finish, kill_repeatedly, worker_env
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
    env = worker_env(database_url, erp_spec)
    kills_mid_work = kill_repeatedly(database_url, env, kills=KILLS, seed=20261125)
    assert kills_mid_work >= KILLS, f"the work finished after {kills_mid_work} kills; give it more to do"
    finished = finish(env)
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
