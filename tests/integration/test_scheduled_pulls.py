"""Two ``handoffs worker`` processes pull scheduled systems over HTTP, one puller per system.

Each system is pulled once per interval (its sync runs never overlap and start at least an
interval apart); the harvest puller is SIGKILLed mid-pull, the other worker takes its lease
over once it expires, and the store ends with exactly the source's records.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import yaml
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from handoffs.bootstrap import build
from handoffs.config.systems import parse_systems
from handoffs.settings import Settings
from handoffs.simulator.faults import FaultSettings
from handoffs.simulator.firm.generate import generate_firm
from handoffs.simulator.firm.sizes import size_named
from handoffs.simulator.systems.fleet import Fleet, start_fleet
from handoffs.store.tables import exceptions, objects, policy_decisions, sync_runs, time_entries
from handoffs.sync.fleet import fleet_yaml
from handoffs.sync.leases import SyncRuns
from handoffs.sync.onboarding import link_identities, load_master_data

EVERY = {"workday": 2, "harvest": 4}  # seconds
LEASE = 2  # seconds a silent puller keeps a system


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    from tests.conftest import _drop_postgres, _fresh_postgres

    admin = request.getfixturevalue("postgres_template")
    if admin is None:
        pytest.skip("no PostgreSQL available")
    name, url = _fresh_postgres(admin)
    yield url
    _drop_postgres(admin, name)


def _config(fleet: Fleet, path: Path, unit: str = "s") -> None:
    data = yaml.safe_load(fleet_yaml(fleet.endpoints(), erps=()))
    data["systems"] = {name: data["systems"][name] for name in EVERY}
    for name, seconds in EVERY.items():
        data["systems"][name]["schedule"] = {"every": f"{seconds}{unit}"}
    data["systems"]["harvest"]["options"] = {"per_page": 100}  # many pages: a pull to stop half-way
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def _worker(url: str, config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HANDOFFS_DATABASE_URL": url, "HANDOFFS_ERP": "none", "HANDOFFS_LEASE_SECONDS": "2"}
    command = [sys.executable, "-m", "handoffs.cli.main", "worker", "--json"]
    command += ["--systems", str(config), "--pull-lease-seconds", str(LEASE)]
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would stall the worker's logging
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _count(engine, table, *where) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


@pytest.mark.postgres
def test_two_workers_pull_each_system_once_per_interval_and_take_over_a_killed_pull(
    pg_url: str, tmp_path: Path
) -> None:
    firm = generate_firm(5, size_named("small", months=2))
    slow = FaultSettings(latency_rate=1.0, latency_ms=150)  # every page takes a while
    fleet = start_fleet(firm, tmp_path / "systems", faults=slow, poll=0.05)
    engine = create_engine(pg_url, poolclass=NullPool)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        config = tmp_path / "handoffs.yaml"
        _config(fleet, config)
        hub = build(Settings(database_url=pg_url, erp="none"), systems=parse_systems(config.read_text()))
        hub.upgrade()
        load_master_data(hub, firm)  # reference data and projects, as onboarding loads them
        link_identities(hub, firm)
        hub.close()
        source_entries = len(fleet.systems["harvest"].data["time_entries"])
        source_workers = len(fleet.systems["workday"].workers)
        assert source_entries > 1000  # more than one ingest batch: a kill can land between them

        workers = [_worker(pg_url, config, tmp_path / f"worker-{n}.log") for n in (1, 2)]
        by_pid = {str(w.pid): w for w in workers}
        deadline = time.monotonic() + 60
        victim = None
        while victim is None and time.monotonic() < deadline:  # harvest half stored, its pull running
            with engine.connect() as conn:
                running = conn.execute(
                    select(sync_runs.c.owner).where(
                        sync_runs.c.system == "harvest", sync_runs.c.status == "running"
                    )
                ).scalar()
            stored = _count(engine, time_entries)
            if running and 0 < stored < source_entries:
                victim = by_pid[running.rsplit(":", 1)[1]]
                victim.send_signal(signal.SIGKILL)
            time.sleep(0.02)
        assert victim is not None, "the harvest pull was never caught half-way"
        survivor = next(w for w in workers if w is not victim)

        runs = SyncRuns(engine)
        deadline = time.monotonic() + 120  # generous: the machine may be shared
        while time.monotonic() < deadline:  # the survivor takes harvest over and finishes it
            done = [r for r in runs.recent("harvest") if r.status == "ok"]
            if done and len([r for r in runs.recent("workday") if r.status == "ok"]) >= 3:
                break
            time.sleep(0.2)
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)
        logs = {w.pid: (tmp_path / f"worker-{n}.log").read_text() for n, w in enumerate(workers, 1)}
        # 1, not 0: the simulated firm's few time entries outside their project's dates are
        # dead letters a person must look at (the worker says so), not a failed pull.
        assert survivor.returncode in (0, 1), logs[survivor.pid][-2000:]
        assert "Traceback" not in logs[survivor.pid]

        harvest = runs.recent("harvest")[::-1]
        killed = [r for r in harvest if r.owner.endswith(f":{victim.pid}")]
        assert killed[0].status == "abandoned" and killed[0].finished_at is not None
        taken_over = [r for r in harvest if r.status == "ok"]
        assert taken_over and all(r.owner.endswith(f":{survivor.pid}") for r in taken_over)
        assert taken_over[0].started_at - killed[0].started_at >= timedelta(seconds=EVERY["harvest"])
        assert taken_over[0].counts["time_entries"]["fetched"] == source_entries

        for system, seconds in EVERY.items():  # once per interval: no overlap, starts an interval apart
            chain = [r for r in runs.recent(system)[::-1] if r.status != "running"]
            assert len(chain) >= 2
            for before, after in itertools.pairwise(chain):
                assert before.finished_at is not None and before.finished_at <= after.started_at
                assert after.started_at - before.started_at >= timedelta(seconds=seconds)

        assert _count(engine, time_entries) == source_entries  # nothing lost, nothing doubled
        assert _count(engine, objects, objects.c.type == "resource") == source_workers
        pulled = exceptions.c.source.like("harvest:%") | exceptions.c.source.like("workday:%")
        assert _count(engine, exceptions, pulled) == 0  # nothing held back from either pull
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        engine.dispose()
        fleet.stop()


def test_worker_until_idle_with_pulls_pulls_what_is_due_once_then_stops(tmp_path: Path) -> None:
    """SQLite, in process: ``handoffs worker --until-idle --pulls`` pulls every scheduled system
    once, works what the pulls made, and a second run finds nothing due yet."""
    from typer.testing import CliRunner

    from handoffs.cli.main import app

    firm = generate_firm(5, size_named("small", consultants=5, clients=2, projects=2))
    fleet = start_fleet(firm, tmp_path / "systems", poll=0.05)
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    try:
        config = tmp_path / "handoffs.yaml"
        _config(fleet, config, unit="h")
        hub = build(Settings(database_url=url, erp="none"), systems=parse_systems(config.read_text()))
        hub.upgrade()
        load_master_data(hub, firm)
        link_identities(hub, firm)
        hub.close()
        policies = str(Path(__file__).resolve().parents[2] / "policies")
        env = {"HANDOFFS_DATABASE_URL": url, "HANDOFFS_SYSTEMS": str(config), "HANDOFFS_POLICIES": policies}
        args = ["worker", "--until-idle", "--pulls", "--json"]  # configured as deploy/ does: environment
        first = CliRunner().invoke(app, args, env=env)
        assert first.exit_code == 0, first.output
        engine = create_engine(url, poolclass=NullPool)
        runs = SyncRuns(engine)
        assert sorted((r.system, r.status) for r in runs.recent()) == [("harvest", "ok"), ("workday", "ok")]
        assert _count(engine, time_entries) == len(fleet.systems["harvest"].data["time_entries"])
        assert _count(engine, policy_decisions) > 0  # the policy book of HANDOFFS_POLICIES was applied
        summary = orjson.loads(first.stdout)
        assert summary["processed"] > 0 and summary["pulls"] == {"harvest": 1, "workday": 1}  # pulled, worked
        again = CliRunner().invoke(app, args, env=env)  # within the interval: nothing is due
        assert again.exit_code == 0 and len(runs.recent()) == 2 and orjson.loads(again.stdout)["pulls"] == {}
        without = CliRunner().invoke(app, ["worker", "--until-idle"], env=env)
        assert without.exit_code == 0 and len(runs.recent()) == 2  # --until-idle alone never pulls
        bare = CliRunner().invoke(
            app, ["worker", "--until-idle", "--pulls"], env={**env, "HANDOFFS_SYSTEMS": ""}
        )
        assert bare.exit_code == 2 and "--pulls needs the systems file" in bare.stderr
        engine.dispose()
    finally:
        fleet.stop()
