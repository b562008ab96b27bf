"""Fault-matrix rows against the simulated Odoo 17 over HTTP: a slow write that completes after
the client's timeout, and two workers (each with its own connector, as in two processes)
posting at once while drafts clash on their sequence name. Same invariants as every row:
nothing lost, nothing billed or posted twice (Odoo's own moves, by ``ref``), each move's
total the hub's, every failure an exception with its payload.
"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handoffs.bench.datagen import backfill_lines
from handoffs.bootstrap import App, build
from handoffs.connectors.http import HttpPolicy
from handoffs.connectors.odoo import OdooErp
from handoffs.connectors.secrets import Secret
from handoffs.settings import Settings
from handoffs.simulator.systems.odoo import ODOO_PASSWORD, OdooSim
from handoffs.store.repositories.pending_writes import StorePendingWrites
from handoffs.sync import StoreLookups
from tests.connectors.test_erps import _mappings, odoo_config
from tests.faults.checks import MATRIX, Row, check, lost_records
from tests.faults.racing import PerWorker, Watched, two_workers
from tests.faults.test_matrix import _db, _entries
from tests.support.flow import billing, drain, load

pytestmark = pytest.mark.slow

SEEDS: dict[str, list[dict[str, Any]]] = {
    "res.company": [{"id": 1, "name": "Handoffs Demo Inc.", "currency_id": 1, "company_registry": "LE-US"}],
    "res.currency": [{"id": 1, "name": "USD", "active": True}],
    "product.product": [{"id": 1, "name": "Consulting services"}],
    "account.tax": [
        {"id": 1, "name": "US services 0%", "amount": "0", "type_tax_use": "sale", "company_id": 1}
    ],
    "account.analytic.plan": [{"id": 1, "name": "Projects"}],
}


def _odoo(url: str, hub: App, read_timeout: float = 4.0) -> OdooErp:
    policy = HttpPolicy(connect_timeout=2, read_timeout=read_timeout, attempts=6, backoff=0.01, max_wait=2.0)
    config = odoo_config(
        url, {"odoo": SEEDS}, Secret(ODOO_PASSWORD), taxes={"TX-US-EXEMPT": 1}, settle_seconds=1.5
    )
    erp = OdooErp(
        "odoo",
        config,
        _mappings("odoo"),
        StoreLookups(hub.engine),
        pending=StorePendingWrites(hub.engine),
        policy=policy,
    )
    erp.locks = [threading.Lock()]  # its own locks: another process's connector shares none
    return erp


def _row(hub: App, sim: OdooSim, fault: str, database_url: str, lines: list[str], detail: str) -> Row:
    expected = _entries(lines)
    moves = [m for m in sim.store.tables["account.move"].values() if m.get("state") != "cancel"]
    held = Counter(str(m["ref"]) for m in moves)
    row = check(
        hub,
        fault=fault,
        db=_db(database_url),
        entries=len(expected),
        lost=len(lost_records(hub, expected)),
        erp_records={"odoo": held},
        detail=detail,
    )
    with hub.uow() as uow:
        invoices = {i.id: i for i, _ in uow.invoices.iter_all()}
    for move in moves:
        invoice = invoices.get(str(move["ref"]))
        if invoice is not None and Decimal(str(move["amount_total"])) != invoice.total.amount:
            row.problems.append(f"Odoo's total of {invoice.id} is {move['amount_total']}")
        if invoice is not None and move["state"] != "posted":
            row.problems.append(f"Odoo holds {invoice.id} as {move['state']}")
    MATRIX.append(row)
    assert row.passed, row.problems
    return row


def test_odoo_slow_write_completes_after_the_timeout(database_url: str, tmp_path: Path) -> None:
    sim = OdooSim(SEEDS, seed=3, slow_write_rate=0.4, slow_write_seconds=0.8)
    server = sim.serve().start()
    hub = build(Settings(database_url=database_url, erp="none", backoff_base=0.01, max_attempts=8))
    try:
        hub.ports.erps["odoo"] = _odoo(server.base_url, hub, read_timeout=0.4)
        lines = list(backfill_lines(entries=240, projects=8, months=1, seed=21))
        assert load(hub, lines).failed == 0
        drain(hub)
        assert billing(hub).billed_entries == 240
        slow = sim.faults.fired["slow_write"]
        assert slow > 0, "no write was slow; raise slow_write_rate"
        found = hub.ports.erps["odoo"].writes.found_after_uncertain  # type: ignore[attr-defined]
        detail = (
            f"{slow} writes landed after the client's timeout: {found} creates found by ref after settling"
        )
        _row(hub, sim, "slow write completes after the timeout (Odoo)", database_url, lines, detail)
    finally:
        hub.close()
        server.stop()


def test_odoo_two_workers_post_at_once(database_url: str, tmp_path: Path) -> None:
    sim = OdooSim(SEEDS, seed=4, latency_rate=1.0, latency_ms=40, sequence_clash_rate=0.1)
    server = sim.serve().start()
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
        watched = Watched(PerWorker("odoo", {f"w{n}": _odoo(server.base_url, hub) for n in (1, 2)}))
        hub.ports.erps["odoo"] = watched  # type: ignore[assignment]
        lines = list(backfill_lines(entries=240, projects=12, months=1, seed=22))
        assert load(hub, lines).failed == 0
        two_workers(hub)
        hub.ports.erps["odoo"] = _odoo(server.base_url, hub)
        drain(hub)  # whatever a worker left for later
        assert billing(hub).billed_entries == 240
        twice = watched.twice
        assert twice > 0, "no invoice was posted by both workers; shorten the lease"
        clashes = sim.faults.fired["sequence_clash"]
        detail = (
            f"{twice} invoices posted by both workers, {watched.overlaps} calls while the other's was "
            f"running, {clashes} sequence-name clashes tried again; Odoo kept one move each"
        )
        _row(hub, sim, "two workers post at once (Odoo)", database_url, lines, detail)
    finally:
        hub.close()
        server.stop()
