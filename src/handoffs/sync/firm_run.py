"""Run the hub against a simulated firm over HTTP: the engine room of ``handoffs demo``.

generate firm ─► start its systems (fault profile) ─► handoffs.yaml ─► build the hub
  ─► master data + identity links (onboarding) ─► pull every system through its connector
  ─► won deals (IsWon) through the opportunity-to-project flow (matched to the register)
  ─► worker: price ─► invoice ─► post to every ERP ─► pull again (incremental: nothing new)
  ─► summary and controls (lost records, double billing, exceptions by category)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from handoffs.bootstrap import App, build
from handoffs.flows.operations import request_billing
from handoffs.settings import Settings
from handoffs.simulator.faults import FaultSettings
from handoffs.simulator.firm.generate import generate_firm
from handoffs.simulator.firm.model import Firm
from handoffs.simulator.firm.sizes import FirmSize
from handoffs.simulator.systems.fleet import Fleet, start_fleet
from handoffs.store.tables import time_entries
from handoffs.sync.fleet import fleet_systems
from handoffs.sync.onboarding import link_identities, load_master_data
from handoffs.sync.pull import PullReport
from handoffs.sync.run import SystemSync, sync_systems
from handoffs.sync.summary import readiness_by_period, summarise

__all__ = ["FirmRun", "run_firm"]


@dataclass
class FirmRun:
    """What one run did; ``summary`` is what the demo prints."""

    firm: Firm
    pulls: list[PullReport] = field(default_factory=list)
    syncs: list[SystemSync] = field(default_factory=list)  # per system, with any outage held
    worker: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    readiness: dict[str, Any] = field(default_factory=dict)  # as finance saw it before closing
    fleet: Fleet | None = None  # the (stopped) systems, whose records a check can still read


Progress = Callable[[str, int, int | None], None]  # (stage, completed, total or None)


def _noop(stage: str, completed: int, total: int | None) -> None:
    return None


def run_firm(
    seed: int,
    out_dir: Path,
    *,
    size: str | FirmSize = "default",
    faults: str | FaultSettings = "default",
    progress: Progress = _noop,
    database_url: str | None = None,
) -> FirmRun:
    """Generate the firm, start its systems, run the hub against them, and summarise.

    The hub keeps its state in ``out_dir/handoffs.db`` unless ``database_url`` names another
    (migrated or empty) database, such as a PostgreSQL one.
    """
    started = time.perf_counter()
    out_dir = out_dir.resolve()  # folders in handoffs.yaml are read relative to the file itself
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("handoffs.db*"):
        stale.unlink()
    firm = generate_firm(seed, size)
    run = FirmRun(firm)
    fleet = start_fleet(firm, out_dir / "systems", faults=faults, poll=0.05)
    run.fleet = fleet
    try:
        systems = fleet_systems(fleet.endpoints(), out_dir / "handoffs.yaml")
        settings = Settings(
            database_url=database_url or f"sqlite:///{out_dir / 'handoffs.db'}",
            erp="none",
            backoff_base=0.05,
            max_attempts=10,
        )
        hub = build(settings, systems=systems)
        try:
            hub.upgrade()
            load_master_data(hub, firm)
            link_identities(hub, firm)
            _pull_all(hub, run, progress, "pull")
            run.worker = _work(hub, progress)
            _pull_all(hub, run, progress, "re-pull")  # incremental: the overlap is re-read, nothing new
            more = _work(hub, progress)
            run.worker = {k: run.worker.get(k, 0) + v for k, v in more.items()}
            run.readiness = readiness_by_period(hub)  # what finance sees before closing
            _close_periods(hub, progress)  # month end: installments, milestones, revenue, journals
            more = _work(hub, progress)
            run.worker = {k: run.worker.get(k, 0) + v for k, v in more.items()}
            run.summary = summarise(hub, fleet, run.pulls, run.worker, time.perf_counter() - started)
            run.summary["billing_readiness_before_close"] = run.readiness
        finally:
            hub.close()
    finally:
        _stop(fleet)
    return run


def _pull_all(hub: App, run: FirmRun, progress: Progress, label: str) -> None:
    """Pull every source system; an outage ends that system's pull as an exception, not the run."""

    def page(system: str, resource: str, done: int) -> None:
        progress(f"{label} {system} {resource}", done, None)

    for synced in sync_systems(hub, label=label, progress=page):
        run.pulls.extend(synced.pulls)
        run.syncs.append(synced)


def _close_periods(hub: App, progress: Progress) -> None:
    """Close every period the firm worked in, as finance does at month end (``handoffs bill``)."""
    with hub.uow() as uow:
        periods = sorted({r[0] for r in uow.connection.execute(select(time_entries.c.period).distinct())})
        for period in periods:
            progress(f"close {period}", 0, None)
            request_billing(uow, hub.ports, period)
        uow.commit()


def _work(hub: App, progress: Progress) -> dict[str, int]:
    worker = hub.worker()
    worker.run(
        until_idle=True,
        on_batch=lambda s, left: progress("invoice and post", s.processed, s.processed + left),
    )
    return worker.stats.as_dict()


def _stop(fleet: Fleet) -> None:
    fleet.stop()
