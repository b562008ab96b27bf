"""Scheduled pulls for ``handoffs worker``: due systems, one puller each, a record per pull.

::

    every few seconds, between batches of work:
      for each system with a schedule whose next time has come (sync_runs, shared):
        claim its lease ──no──► another worker pulls it; skip
          │yes
        still due? (read again under the lease) ──no──► release; skip
          │yes
        sync_runs row "running" ─► pull every resource (lease renewed in the background;
          a lost lease stops the pull before its cursor moves) ─► row "ok" or "failed"
        release the lease

``pull_system_once`` is the one-system pull the scheduler runs; ``handoffs sync`` pulls
the same way, all systems once, without schedules or leases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from handoffs.config.schedule import Schedule, parse_schedule
from handoffs.sync.leases import PullLeases, SyncRuns
from handoffs.sync.run import hand_over_deals, pull_system
from handoffs.telemetry.logs import get_logger

__all__ = ["LeaseLost", "PullScheduler", "PullStopped", "pull_system_once", "schedules_of", "work_and_pull"]

log = get_logger("handoffs.schedule")


class LeaseLost(RuntimeError):
    """Another worker took the lease over: this pull stops before it moves the cursor."""


class PullStopped(RuntimeError):
    """The worker is stopping (SIGTERM): the pull ends between pages, its cursor unmoved."""


def schedules_of(systems: Any) -> dict[str, Schedule]:
    """The scheduled source systems of a ``SystemsConfig`` (ERPs are posted to, not pulled)."""
    found = {}
    for name, cfg in systems.systems.items():
        if cfg.entry.get("schedule") is not None and cfg.role != "erp":
            found[name] = parse_schedule(cfg.entry["schedule"])
    return found


def pull_system_once(hub: Any, system: str, on_page: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Pull one configured system as ``handoffs sync`` does; returns counts per resource.

    An outage past the client's retries is held as an exception by the pull (its cursor
    unmoved) and named under ``"error"``; ``on_page`` may raise to stop between pages.
    """
    cfg = hub.systems.systems[system]
    if cfg.role == "erp" or hub.sources.get(system) is None:
        raise ValueError(f"{system!r} is not a source system the hub can pull")

    def progress(_system: str, _resource: str, done: int) -> None:
        if on_page is not None:
            on_page(done)  # between resources too: a scheduler may stop here (its lease lost)

    result = pull_system(hub, cfg, label="scheduled", progress=progress)
    if result.error is None and cfg.role == "crm" and cfg.connector == "salesforce":
        hand_over_deals(hub, cfg, result, progress)
    counts: dict[str, Any] = {
        p.resource: {
            "fetched": p.fetched,
            "mapped": p.mapped,
            "failed": p.failed,
            "outcomes": dict(p.load.outcomes),
        }
        for p in result.pulls
    }
    if result.won_deals:
        counts["won_deals"] = {"handed_over": result.won_deals}
    if result.error is not None:
        counts["error"] = result.error
    return counts


@dataclass
class PullScheduler:
    """Runs the due pulls of ``schedules`` for one worker process (``owner``).

    ``lease_seconds`` is how long a silent puller keeps a system: the lease is renewed
    every third of it while the pull runs, so only a stopped (killed, frozen) puller loses it.
    """

    hub: Any
    schedules: dict[str, Schedule]
    owner: str
    lease_seconds: float = 60.0
    pull: Callable[..., dict[str, Any]] = pull_system_once
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    pulled: dict[str, int] = field(default_factory=dict)  # pulls this worker ran, per system
    _next: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.leases = PullLeases(self.hub.engine, self.owner, self.lease_seconds)
        self.runs = SyncRuns(self.hub.engine, self.now)

    def due_now(self) -> bool:
        """Whether a pull may be due (cheap: no database read)."""
        now = self.now()
        return any(self._next.get(s, now) <= now for s in self.schedules)

    def seconds_to_next(self) -> float:
        now = self.now()
        if not self.schedules:
            return 3600.0
        return max(0.0, min((self._next.get(s, now) - now).total_seconds() for s in self.schedules))

    def run_due(self, should_stop: Callable[[], bool] = lambda: False) -> list[int]:
        """Pull every system that is due and not being pulled elsewhere; returns the run ids."""
        done = []
        for system, schedule in self.schedules.items():
            if should_stop():
                break
            last = self.runs.last_started().get(system)
            if not schedule.due(last, self.now()):
                self._next[system] = schedule.next_after(last)  # type: ignore[arg-type]
                continue
            if not self.leases.claim(system):
                self._next[system] = self.now() + timedelta(seconds=min(self.lease_seconds / 3, 5.0))
                continue
            try:
                last = self.runs.last_started().get(system)  # again, now that it is ours
                if schedule.due(last, self.now()):
                    done.append(self._pull(system, should_stop))
                    self.pulled[system] = self.pulled.get(system, 0) + 1
                    last = self.runs.last_started().get(system)
                self._next[system] = schedule.next_after(last)  # type: ignore[arg-type]
            finally:
                self.leases.release(system)
        return done

    def pull_now(self, system: str) -> int | None:
        """Pull ``system`` now, out of schedule (``sync now``): under the same lease, recorded as
        a sync run like a scheduled pull; None when another puller holds the system."""
        if not self.leases.claim(system):
            return None
        try:
            run_id = self._pull(system, lambda: False)
            self.pulled[system] = self.pulled.get(system, 0) + 1
            return run_id
        finally:
            self.leases.release(system)

    def _pull(self, system: str, should_stop: Callable[[], bool]) -> int:
        run_id = self.runs.start(system, self.owner)
        lost, finished = threading.Event(), threading.Event()

        def renew() -> None:
            while not finished.wait(self.lease_seconds / 3):
                try:
                    if not self.leases.renew(system):
                        lost.set()
                        return
                except Exception:  # the database is away: keep trying until the lease is lost
                    log.warning("pull lease renewal failed", system=system, exc_info=True)

        def check(_: int) -> None:
            if lost.is_set():
                raise LeaseLost(f"another worker took over the pull of {system}")
            if should_stop():
                raise PullStopped(f"the worker stopped during the pull of {system}")

        renewer = threading.Thread(target=renew, name=f"lease-{system}", daemon=True)
        renewer.start()
        try:
            counts = self.pull(self.hub, system, on_page=check)
        except Exception as exc:  # recorded on the run; the cursor stayed where it was
            log.warning("scheduled pull failed", system=system, error=str(exc))
            self.runs.finish(run_id, {}, f"{type(exc).__name__}: {exc}")
        else:
            log.info("scheduled pull done", system=system, counts=counts)
            self.runs.finish(run_id, counts, counts.get("error"))
        finally:
            finished.set()
            renewer.join()
        return run_id


def work_and_pull(
    worker: Any,
    scheduler: PullScheduler,
    *,
    until_idle: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[Any, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """The worker's loop with schedules: due pulls between batches, work in between.

    With ``until_idle`` the due pulls run once, then the work they made until none is left.
    """
    if until_idle:
        scheduler.run_due(should_stop)
        return worker.run(until_idle=True, should_stop=should_stop, on_batch=on_batch)
    while not should_stop():
        scheduler.run_due(should_stop)
        worker.run(
            until_idle=True, should_stop=lambda: should_stop() or scheduler.due_now(), on_batch=on_batch
        )
        if not should_stop():
            sleep(min(1.0, max(0.05, scheduler.seconds_to_next())))
    return worker.stats
