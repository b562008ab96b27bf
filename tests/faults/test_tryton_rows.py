"""Fault-matrix rows against a real ERP: the hub's workers post a small firm's invoices to a
real trytond (``tryton_server``) while invoice creates lose their answer, outlive the
client's timeout, or two workers drain the queue at once. The same checker as every other
row: nothing lost, nothing billed or posted twice (Tryton's own invoices, by reference),
journals balanced, every failure an exception with its payload."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from handoffs.bench.datagen import backfill_lines
from handoffs.bootstrap import App
from handoffs.connectors.secrets import Secret
from handoffs.connectors.tryton import TrytonConfig, TrytonErp
from tests.connectors.support import FAST
from tests.faults.checks import MATRIX, Row, check
from tests.faults.racing import PerWorker, Watched, two_workers
from tests.faults.test_matrix import _db, _entries, _hub
from tests.support.flow import drain, load
from tests.support.tryton import LOGIN, PASSWORD, FaultyTransport, TrytonServer

pytestmark = [pytest.mark.slow, pytest.mark.tryton]

TAXES = {"TX-US-EXEMPT": "VAT 0%"}  # the generated firm's only tax code


def _tryton_hub(
    database_url: str, server: TrytonServer, transports: list[FaultyTransport], **settings: Any
) -> tuple[App, list[TrytonErp]]:
    config = TrytonConfig(
        server.url, server.database(), LOGIN, Secret(PASSWORD), taxes=TAXES, settle_seconds=5, settle_poll=0.2
    )
    hub = _hub(database_url, "none", **{"max_attempts": 30, **settings})
    erps = [TrytonErp("tryton", config, policy=FAST, transport=t) for t in transports]
    hub.ports.erps = {"tryton": erps[0]}
    return hub, erps


def _nap(seconds: float) -> None:
    time.sleep(min(seconds, 0.02))


def _held(erp: TrytonErp) -> Counter[str]:
    """Invoices Tryton holds (drafts and posted, not cancelled) per hub invoice id."""
    ids = erp.rpc.call("account.invoice", "search", [["state", "!=", "cancelled"]], 0, None, None)
    return Counter(str(r["reference"]) for r in erp.rpc.call("account.invoice", "read", ids, ["reference"]))


def _row(hub: App, fault: str, database_url: str, lines: list[str], erp: TrytonErp, detail: str) -> Row:
    expected = _entries(lines)
    held = _held(erp)
    row = check(
        hub, fault=fault, db=_db(database_url), entries=len(expected), lost=0, erp_records={"tryton": held}
    )
    row.detail = f"{detail}; Tryton holds {sum(held.values())} invoices for {len(held)} hub invoices"
    MATRIX.append(row)
    assert row.passed, row.problems
    return row


@pytest.mark.parametrize("fault", ["lost", "slow"])
def test_tryton_row_lost_answers_and_slow_writes(
    fault: str, database_url: str, tryton_server: TrytonServer, tmp_path: Path
) -> None:
    transport = FaultyTransport(fault, rate=0.5, seed=13)
    hub, (erp,) = _tryton_hub(database_url, tryton_server, [transport])
    lines = list(backfill_lines(entries=160, projects=6, months=1, seed=4))
    assert load(hub, lines).failed == 0
    drain(hub)
    assert transport.fired > 0 and (fault == "lost" or transport.timeouts > 0)
    name = {
        "lost": "Tryton: invoice creates lose their answer (50 %)",
        "slow": "Tryton: slow write completes after the timeout (50 %)",
    }
    _row(hub, name[fault], database_url, lines, erp, f"{transport.fired} creates unanswered")
    hub.close()


def test_tryton_row_two_workers_post_at_once(
    database_url: str, tryton_server: TrytonServer, tmp_path: Path
) -> None:
    hub, erps = _tryton_hub(
        database_url,
        tryton_server,
        [FaultyTransport("none", 0, 1), FaultyTransport("none", 0, 2)],
        lease_seconds=0.2,
        batch_size=2,
    )
    lines = list(backfill_lines(entries=160, projects=6, months=1, seed=5))
    assert load(hub, lines).failed == 0
    for erp in erps:
        erp.locks = [threading.Lock()]  # as if each worker ran in its own process
    watched = Watched(PerWorker("tryton", {"w1": erps[0], "w2": erps[1]}))
    hub.ports.erps = {"tryton": watched}  # type: ignore[dict-item]
    two_workers(hub)
    hub.ports.erps = {"tryton": erps[0]}
    drain(hub)  # whatever a worker left for later
    assert watched.twice > 0, "no invoice was posted by both workers; shorten the lease"
    _row(
        hub,
        "Tryton: two workers post at once",
        database_url,
        lines,
        erps[0],
        f"{watched.twice} invoices posted by both workers, {watched.overlaps} calls while the other's "
        "was running",
    )
    hub.close()
