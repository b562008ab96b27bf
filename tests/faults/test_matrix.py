"""The fault matrix: a small firm run under one fault at a time, then the same four invariants.

Rows on the firm's canonical file (``handoffs load`` + workers posting to a file-backed fake
ERP): worker SIGKILL repeated, a PostgreSQL restart, an ERP outage past the retry budget
then an operator's retry, lost acknowledgements, duplicated deliveries, malformed records.
Rows on the simulated firm over HTTP (``handoffs demo``'s path, three ERPs): a 429 storm and
schema drift. ``tests/faults/conftest.py`` prints the matrix at the end of the run.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from handoffs.bench.datagen import MALFORMED, backfill_lines
from handoffs.bench.postgres import Cluster, find_bindir
from handoffs.bootstrap import App, build
from handoffs.cli.main import app as cli
from handoffs.connectors.fake.erp import FileErp
from handoffs.domain.billing import Invoice
from handoffs.engine.breaker import BreakerPolicy
from handoffs.engine.guard import SystemGuard
from handoffs.flows.ports import ExternalRef
from handoffs.settings import Settings
from handoffs.simulator.faults import FaultSettings
from handoffs.simulator.systems.fleet import Fleet
from handoffs.store.db import make_engine
from handoffs.store.migrate import upgrade
from handoffs.store.tables import exceptions
from handoffs.sync.firm_run import run_firm
from tests.faults.checks import MATRIX, Row, check, lost_records
from tests.support.crash import WORKER, QueueReader, finish, kill_repeatedly, worker_env
from tests.support.flow import billing, drain, load

pytestmark = pytest.mark.slow


def _db(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


def _entries(lines: list[str]) -> dict[str, str]:
    """Entry id -> its source line, for every time entry in a canonical file."""
    found: dict[str, str] = {}
    for line in lines:
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if doc.get("type") == "time_entry" and line not in MALFORMED:
            found[doc["id"]] = line
    return found


def _erp_view(path: Path) -> dict[str, Counter[str]]:
    """What the file ERP holds: records per hub invoice id (one row per idempotency key)."""
    return {"erp": Counter(invoice for invoice, _, _ in FileErp(path).invoices().values())}


def _record(row: Row) -> Row:
    MATRIX.append(row)
    assert row.passed, row.problems
    return row


def _checked(
    hub: App,
    fault: str,
    database_url: str,
    lines: list[str],
    erp_records: dict[str, Counter[str]],
    detail: str,
) -> Row:
    """The row for a run of the canonical file ``lines``: its time entries are what must not be lost."""
    expected = _entries(lines)
    return check(
        hub,
        fault=fault,
        db=_db(database_url),
        entries=len(expected),
        lost=len(lost_records(hub, expected)),
        erp_records=erp_records,
        detail=detail,
    )


def _file_row(hub: App, fault: str, database_url: str, lines: list[str], erp_path: Path, detail: str) -> Row:
    return _record(_checked(hub, fault, database_url, lines, _erp_view(erp_path), detail))


def _hub(database_url: str, erp_spec: str, **settings: Any) -> App:
    hub = build(Settings(database_url=database_url, erp=erp_spec, backoff_base=0.01, **settings))
    # The breaker opens after 5 failures in a row as in production, but half-opens after 50 ms
    # instead of 30 s, so that a row runs in seconds.
    hub.ports.guard = SystemGuard(hub.engine, {}, BreakerPolicy(threshold=5, cooldown=0.05))
    return hub


# ---- worker SIGKILL mid-batch, repeated ------------------------------------------------------


def test_worker_sigkill_repeated(database_url: str, tmp_path: Path) -> None:
    erp_path = tmp_path / "erp.db"
    erp_spec = f"file:{erp_path}?lost_ack_rate=0.1&error_rate=0.05&seed=11"
    hub = build(Settings(database_url=database_url, erp=erp_spec))
    lines = list(backfill_lines(entries=2000, projects=12, months=2, seed=5))
    assert load(hub, lines).failed == 0
    env = worker_env(database_url, erp_spec)
    kills = kill_repeatedly(database_url, env, kills=6, seed=9)
    assert kills >= 6, f"the work finished after {kills} kills"
    finished = finish(env)
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    assert billing(hub).billed_entries == 2000
    _file_row(hub, "worker SIGKILL mid-batch x6", database_url, lines, erp_path, f"{kills} kills mid-work")
    hub.close()


# ---- a PostgreSQL restart while two workers run ----------------------------------------------


@pytest.fixture
def own_postgres() -> Any:
    """A throwaway cluster of this test's own: restarting it disturbs no other test."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are required in CI")
        pytest.skip("no PostgreSQL server binaries")
    cluster = Cluster(bindir)
    url = cluster.start()
    try:
        yield cluster, url
    finally:
        cluster.stop()


def _pg_restart(cluster: Cluster) -> None:
    cluster._run(
        str(cluster.bindir / "pg_ctl"), "-D", str(cluster.dir / "data"), "-m", "fast", "-w", "restart"
    )


@pytest.mark.postgres
def test_postgres_restart_during_processing(own_postgres: Any, tmp_path: Path) -> None:
    cluster, url = own_postgres
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    erp_path = tmp_path / "erp.db"
    erp_spec = f"file:{erp_path}"
    hub = build(Settings(database_url=url, erp=erp_spec))
    lines = list(backfill_lines(entries=3000, projects=12, months=2, seed=6))
    assert load(hub, lines).failed == 0
    hub.close()  # its pooled connections would not survive the restart either
    env = worker_env(url, erp_spec, HANDOFFS_BATCH_SIZE="5", HANDOFFS_LEASE_SECONDS="2")
    workers = [
        subprocess.Popen(WORKER, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    reader = QueueReader(url)
    try:
        start = reader.left()
        deadline = time.monotonic() + 60
        while reader.left() > start * 2 // 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # a third of the work done: the restart lands mid-processing
        left_at_restart = reader.left()
        assert left_at_restart > 0, "the work finished before the restart; give it more to do"
        _pg_restart(cluster)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if reader.left() == 0:
                    break
            except Exception:  # the test's own reader may meet the restart too
                pass
            time.sleep(0.1)
        alive = [w.poll() is None for w in workers]
    finally:
        reader.close()
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        outputs = [w.communicate(timeout=60) for w in workers]
    assert all(alive), [err.decode()[-2000:] for _, err in outputs]
    stats = [orjson.loads(out) for out, _ in outputs]
    assert sum(s["db_errors"] for s in stats) > 0, "no worker met the restart"
    hub = build(Settings(database_url=url, erp=erp_spec))
    assert billing(hub).billed_entries == 3000
    waited = sum(s["db_errors"] for s in stats)
    detail = f"restart with {left_at_restart} items queued; {waited} db errors waited out"
    _file_row(hub, "PostgreSQL restart (2 workers)", url, lines, erp_path, detail)
    hub.close()


# ---- an ERP outage longer than the retry budget, then recovery -------------------------------


def test_erp_outage_past_the_retry_budget_then_retry(database_url: str, tmp_path: Path) -> None:
    erp_path = tmp_path / "erp.db"
    hub = _hub(database_url, f"file:{erp_path}?error_rate=1", max_attempts=3)
    lines = list(backfill_lines(entries=600, projects=6, months=1, seed=8))
    assert load(hub, lines).failed == 0
    drain(hub)
    with hub.uow() as uow:
        dead = uow.exceptions.list()
    # Refused three times, or turned away by the open circuit: each delivery is a dead letter.
    assert len(dead) == 6 and all(p.attempts == 3 and p.consumer == "time-to-invoice.post" for p in dead)
    assert {p.category for p in dead} <= {"retries_exhausted", "circuit_open"}
    assert FileErp(erp_path).invoices() == {}  # down the whole time
    # The outage row's own check: mid-outage, every undelivered invoice is an open exception.
    mid = check(hub, fault="", db="", entries=0, lost=0, erp_records=_erp_view(erp_path))
    assert mid.exceptions_with_payload and mid.posted_once, mid.problems
    hub.close()

    hub = _hub(database_url, f"file:{erp_path}")  # the ERP is back
    runner = CliRunner()
    for problem in dead:
        result = runner.invoke(
            cli,
            ["exceptions", "retry", str(problem.id), "--reason", "ERP back", "--database-url", database_url],
        )
        assert result.exit_code == 0, result.output
    drain(hub)
    with hub.uow() as uow:
        states = Counter(p.state for p in uow.exceptions.list())
    assert states == {"resolved": 6}
    calls = FileErp(erp_path).call_counts()
    assert len(calls) == 6 and sum(calls.values()) > 6  # refused during the outage, then the retry
    detail = f"{len(dead)} dead letters retried; {sum(calls.values())} ERP calls, 1 record per invoice"
    _file_row(hub, "ERP outage past retry budget", database_url, lines, erp_path, detail)
    hub.close()


# ---- lost acknowledgements ------------------------------------------------------------------


def test_lost_acknowledgements(database_url: str, tmp_path: Path) -> None:
    erp_path = tmp_path / "erp.db"
    hub = _hub(database_url, f"file:{erp_path}?lost_ack_rate=0.5&seed=3", max_attempts=30)
    lines = list(backfill_lines(entries=800, projects=16, months=1, seed=4))
    assert load(hub, lines).failed == 0
    stats = drain(hub)
    calls = FileErp(erp_path).call_counts()
    resent = sum(n - 1 for n in calls.values())
    assert resent > 0 and stats["retried"] >= resent
    detail = f"{resent} postings re-sent after a lost ack; ERP kept one each"
    _file_row(hub, "lost acknowledgements (50 %)", database_url, lines, erp_path, detail)
    hub.close()


# ---- duplicated deliveries ------------------------------------------------------------------


class _SlowErp(FileErp):
    """A file ERP that takes longer to answer than a worker's lease lasts."""

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        time.sleep(0.5)
        return super().post_invoice(invoice, idempotency_key)


def test_duplicated_deliveries(database_url: str, tmp_path: Path) -> None:
    erp_path = tmp_path / "erp.db"
    hub = _hub(database_url, f"file:{erp_path}", lease_seconds=0.1, batch_size=4)
    hub.ports.erps["erp"] = _SlowErp(erp_path)
    lines = list(backfill_lines(entries=400, projects=8, months=1, seed=12))
    # The source sends every record twice in a row, and then the whole file again.
    twice = [line for line in lines for _ in range(2)]
    assert load(hub, twice).failed == 0
    assert load(hub, lines).failed == 0
    # Three workers; a lease shorter than an ERP call, so several are handed the same postings.
    workers = [hub.worker(owner=f"w{n}") for n in (1, 2, 3)]
    threads = [threading.Thread(target=w.run, kwargs={"until_idle": True}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    calls = FileErp(erp_path).call_counts()
    twice_sent = sum(1 for n in calls.values() if n > 1)
    assert twice_sent > 0, "no posting reached the ERP twice; shorten the lease"
    assert billing(hub).billed_entries == 400
    detail = f"every line sent 3x; {twice_sent} invoices reached the ERP twice or more"
    _file_row(hub, "duplicated deliveries", database_url, lines, erp_path, detail)
    hub.close()


# ---- malformed records ----------------------------------------------------------------------


def test_malformed_records(database_url: str, tmp_path: Path) -> None:
    erp_path = tmp_path / "erp.db"
    hub = _hub(database_url, f"file:{erp_path}")
    lines = list(backfill_lines(entries=800, projects=8, months=1, seed=2, malformed=len(MALFORMED)))
    lines.insert(40, lines[41][: len(lines[41]) // 2])  # a line cut in half
    lines.insert(80, "\ufeff{not json at all")
    report = load(hub, lines)
    assert report.failed == len(MALFORMED) + 2
    drain(hub)
    assert billing(hub).billed_entries == 800  # the good ones flow
    expected = {**_entries(lines), **{line: line for line in lines if line in MALFORMED}}
    expected[lines[40]] = lines[40]
    expected[lines[80]] = lines[80]
    with hub.uow() as uow:
        held = {p.raw for p in uow.exceptions.list(category="validation")}
    assert {line for line in expected.values() if line not in _entries(lines).values()} <= held
    row = check(
        hub,
        fault="malformed records",
        db=_db(database_url),
        entries=len(expected),
        lost=len(lost_records(hub, expected)),
        erp_records=_erp_view(erp_path),
        detail=f"{report.failed} bad lines held with their text; 800 good entries billed",
    )
    _record(row)
    hub.close()


# ---- the simulated firm over HTTP: 429 storm, schema drift ----------------------------------


def _fleet_erps(fleet: Fleet) -> dict[str, Counter[str]]:
    """What each simulated ERP holds, per hub invoice id."""
    netsuite = fleet.systems["netsuite"].records["invoice"].values()  # type: ignore[attr-defined]
    moves = fleet.systems["odoo"].store.tables["account.move"].values()  # type: ignore[attr-defined]
    batches = {b for b, outcome in fleet.legacy.outcomes.items() if outcome == "posted"}
    return {
        "netsuite": Counter(r["externalId"] for r in netsuite),
        "odoo": Counter(m["ref"] for m in moves if m.get("move_type") in ("out_invoice", "out_refund")),
        "legacy_gl": Counter(batches),
    }


def _firm_url(database_url: str, tmp_path: Path) -> str:
    """Where the firm run keeps its hub: PostgreSQL as given, or SQLite in its own folder."""
    return (
        database_url if _db(database_url) == "postgres" else f"sqlite:///{tmp_path / 'firm' / 'handoffs.db'}"
    )


def _firm_row(database_url: str, tmp_path: Path, fault: str, faults: FaultSettings) -> tuple[Any, Row]:
    url = _firm_url(database_url, tmp_path)
    run = run_firm(7, tmp_path / "firm", size="small", faults=faults, database_url=url)
    assert run.fleet is not None
    hub = build(Settings(database_url=url, erp="none"))
    s = run.summary
    erps = _fleet_erps(run.fleet)
    # Legacy GL batches are named after the invoice with unsafe characters replaced; the
    # ledger also takes batches of journal entries, which are not invoices.
    with hub.uow() as uow:
        ids = {re.sub(r"[^A-Za-z0-9_.-]", "_", i.id): i.id for i, _ in uow.invoices.iter_all()}
    erps["legacy_gl"] = Counter({ids[b]: n for b, n in erps["legacy_gl"].items() if b in ids})
    row = check(
        hub,
        fault=fault,
        db=_db(database_url),
        entries=sum(s["records_pulled"].values()),
        lost=s["lost_records"],
        erp_records=erps,
    )
    hub.close()
    return run, row


def test_429_storm(database_url: str, tmp_path: Path) -> None:
    run, row = _firm_row(
        database_url,
        tmp_path,
        "429 storm (10 % of calls)",
        FaultSettings(throttle_rate=0.1, retry_after_seconds=1),
    )
    throttles = early = 0
    for system in run.fleet.systems.values():
        f = system.faults
        for fired in f.log:
            if fired["fault"] != "throttle" or fired["request"] >= len(f.arrivals):
                continue
            throttles += 1
            n = fired["request"]  # the n-th request was throttled; arrivals[n] is the next one
            if f.arrivals[n] - f.arrivals[n - 1] < fired["retry_after"] - 0.05:
                early += 1
    assert throttles > 0
    if early:
        row.problems.append(f"{early} of {throttles} calls after a 429 came before its Retry-After")
    row.detail = f"{throttles} 429s, next call waited Retry-After for {throttles - early}"
    posted = run.summary["invoices_posted"]
    assert posted > 0 and set(run.summary["deliveries"]) == {"confirmed"}  # the storm was outlasted
    _record(row)


def test_schema_drift(database_url: str, tmp_path: Path) -> None:
    run, row = _firm_row(database_url, tmp_path, "schema drift", FaultSettings(schema_drift=True))
    hub = build(
        Settings(
            database_url=database_url
            if not database_url.startswith("sqlite")
            else f"sqlite:///{tmp_path / 'firm' / 'handoffs.db'}",
            erp="none",
        )
    )
    with hub.uow() as uow:
        drifted = uow.connection.execute(
            select(exceptions.c.raw).where(exceptions.c.category == "schema_drift")
        ).all()
    hub.close()
    fired = sum(s.faults.fired["schema_drift"] for s in run.fleet.systems.values())
    mapped = sum(p.mapped for p in run.pulls if p.label == "pull")
    assert drifted and all(orjson.loads(raw) for (raw,) in drifted)  # each holds the record as sent
    row.detail = (
        f"{fired} drifted records served; of {row.entries} pulled, {mapped} mapped, "
        f"{len(drifted)} held as mapping exceptions"
    )
    assert mapped + len(drifted) == row.entries  # each one mapped or held, none dropped
    _record(row)
