"""Fault-matrix rows against the simulated NetSuite over HTTP: a slow write that completes
after the client's timeout, and two workers posting at once. Same invariants as every row:
nothing lost, nothing billed or posted twice (NetSuite's own records, and each invoice's
lines once), journals balanced, every failure an exception with its payload.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from handoffs.bench.datagen import backfill_lines
from handoffs.bootstrap import App, build
from handoffs.connectors.http import HttpPolicy
from handoffs.connectors.netsuite import NetSuiteErp
from handoffs.settings import Settings
from handoffs.simulator.server import SimServer
from handoffs.simulator.systems.netsuite import NetSuiteSim
from handoffs.store.repositories.pending_writes import StorePendingWrites
from handoffs.sync import StoreLookups
from tests.connectors.test_erps import _mappings, netsuite_config
from tests.faults.checks import MATRIX, Row, check, lost_records
from tests.faults.racing import Watched, two_workers
from tests.faults.test_matrix import _db, _entries
from tests.support.flow import billing, drain, load

pytestmark = pytest.mark.slow

SEEDS: dict[str, list[dict[str, Any]]] = {
    "subsidiary": [{"id": "1", "name": "Handoffs Demo Inc.", "currency": {"id": "1"}}],
    "currency": [{"id": "1", "symbol": "USD", "name": "US Dollar"}],
    "salestaxitem": [{"id": "7", "itemId": "TX-US-EXEMPT", "rate": "0"}],
    "serviceItem": [{"id": "10", "itemId": "Consulting services"}],
}


def _lines(entries: int, projects: int, seed: int) -> list[str]:
    """A backfill whose legal entity is NetSuite subsidiary 1."""
    lines = list(backfill_lines(entries=entries, projects=projects, months=1, seed=seed))
    entity = orjson.loads(lines[0])
    lines[0] = orjson.dumps({**entity, "erp_subsidiary": "1"}).decode()
    return lines


def _netsuite(url: str, hub: App, read_timeout: float = 4.0) -> NetSuiteErp:
    policy = HttpPolicy(connect_timeout=2, read_timeout=read_timeout, attempts=6, backoff=0.01, max_wait=2.0)
    config = netsuite_config(url, poll_interval=0.01, settle_seconds=1.5)
    return NetSuiteErp(
        "netsuite",
        config,
        _mappings("netsuite"),
        StoreLookups(hub.engine),
        pending=StorePendingWrites(hub.engine),
        policy=policy,
    )


def _row(hub: App, sim: NetSuiteSim, fault: str, database_url: str, lines: list[str], detail: str) -> Row:
    expected = _entries(lines)
    held = Counter(r["externalId"] for r in sim.records["invoice"].values())
    row = check(
        hub,
        fault=fault,
        db=_db(database_url),
        entries=len(expected),
        lost=len(lost_records(hub, expected)),
        erp_records={"netsuite": held},
        detail=detail,
    )
    with hub.uow() as uow:
        invoices = {i.id: i for i, _ in uow.invoices.iter_all()}
    for record in sim.records["invoice"].values():
        invoice = invoices.get(record["externalId"])
        if invoice is not None and len(record["item"]["items"]) != len(invoice.lines):
            row.problems.append(f"NetSuite holds {len(record['item']['items'])} lines of {invoice.id}")
        if invoice is not None and Decimal(str(record["total"])) != invoice.total.amount:
            row.problems.append(f"NetSuite's total of {invoice.id} is {record['total']}")
    MATRIX.append(row)
    assert row.passed, row.problems
    return row


def _start(sim: NetSuiteSim) -> SimServer:
    return sim.serve().start()


def test_netsuite_slow_write_completes_after_the_timeout(database_url: str, tmp_path: Path) -> None:
    sim = NetSuiteSim(
        SEEDS,
        seed=3,
        slow_write_rate=0.4,
        slow_write_seconds=0.8,
        async_pending_polls=1,
        async_run_seconds=0.3,
    )
    server = _start(sim)
    # The production retry budget (8 attempts): an uncertain write needs three of them.
    hub = build(Settings(database_url=database_url, erp="none", backoff_base=0.01, max_attempts=8))
    try:
        hub.ports.erps["netsuite"] = _netsuite(server.base_url, hub, read_timeout=0.4)
        lines = _lines(entries=240, projects=8, seed=21)
        assert load(hub, lines).failed == 0
        drain(hub)
        assert billing(hub).billed_entries == 240
        slow = sim.faults.fired["slow_write"]
        assert slow > 0, "no write was slow; raise slow_write_rate"
        found = hub.ports.erps["netsuite"].writes.found_after_uncertain  # type: ignore[attr-defined]
        repeats = sum(1 for r in sim.received if r["operation"] == "idempotent_repeat")
        detail = (
            f"{slow} writes landed after the client's timeout: {found} found by eid:, "
            f"{repeats} re-sent after settling with their idempotency key (the first job answered)"
        )
        _row(hub, sim, "slow write completes after the timeout (NetSuite)", database_url, lines, detail)
    finally:
        hub.close()
        server.stop()


def test_netsuite_two_workers_post_at_once(database_url: str, tmp_path: Path) -> None:
    sim = NetSuiteSim(SEEDS, seed=4, latency_rate=1.0, latency_ms=80, async_pending_polls=1)
    server = _start(sim)
    hub = build(
        Settings(
            database_url=database_url,
            erp="none",
            backoff_base=0.01,
            max_attempts=60,
            lease_seconds=0.1,
            batch_size=2,
        )
    )
    try:
        watched = Watched(_netsuite(server.base_url, hub))
        hub.ports.erps["netsuite"] = watched  # type: ignore[assignment]
        lines = _lines(entries=240, projects=12, seed=22)
        assert load(hub, lines).failed == 0
        two_workers(hub)
        drain(hub)  # whatever a worker left for later
        assert billing(hub).billed_entries == 240
        twice = watched.twice
        assert twice > 0, "no invoice was posted by both workers; shorten the lease"
        detail = (
            f"{twice} invoices posted by both workers, {watched.overlaps} calls while the other's was "
            "running; NetSuite kept one record each"
        )
        _row(hub, sim, "two workers post at once (NetSuite)", database_url, lines, detail)
    finally:
        hub.close()
        server.stop()
