"""Schedules in handoffs.yaml, and the scheduler's choice of what to pull (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from handoffs.config.schedule import Schedule, parse_interval, parse_schedule
from handoffs.config.systems import SystemsConfigError, parse_systems
from handoffs.store.db import make_engine
from handoffs.store.migrate import upgrade
from handoffs.sync.leases import PullLeases
from handoffs.sync.scheduler import PullScheduler, schedules_of

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_intervals_and_cron_expressions_say_when_the_next_pull_is_due() -> None:
    assert parse_interval("15m") == timedelta(minutes=15)
    assert parse_interval("1h30m") == timedelta(minutes=90)
    assert parse_interval("45") == timedelta(seconds=45)
    for bad in ("", "15x", "m15", "0s", "1h 30m"):
        with pytest.raises(ValueError, match="interval"):
            parse_interval(bad)
    every = parse_schedule({"every": "15m"})
    assert every.due(None, T0) and not every.due(T0, T0 + timedelta(minutes=14))
    assert every.due(T0, T0 + timedelta(minutes=15))
    weekdays = parse_schedule({"cron": "*/10 7-19 * * 1-5"})
    assert weekdays.next_after(T0 + timedelta(minutes=1)) == T0 + timedelta(minutes=10)
    friday_evening = datetime(2026, 3, 6, 19, 55, tzinfo=UTC)
    assert weekdays.next_after(friday_evening) == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # Monday
    for bad in ({"cron": "every monday"}, {"every": "5m", "cron": "* * * * *"}, "15m", {"at": "9:00"}):
        with pytest.raises(ValueError):
            parse_schedule(bad)


def test_a_wrong_schedule_in_handoffs_yaml_names_its_line() -> None:
    text = (
        "version: 1\nsystems:\n  csv:\n    role: time\n    connector: csv_time\n    schedule: {every: soon}\n"
    )
    with pytest.raises(SystemsConfigError, match=r"handoffs.yaml:6: system 'csv': an interval"):
        parse_systems(text)
    ok = parse_systems(text.replace("soon", "10m") + "  gl: {role: erp, connector: legacy_gl, folder: gl}\n")
    assert schedules_of(ok) == {"csv": Schedule(every=timedelta(minutes=10))}


def _scheduler(tmp_path: Path, owner: str, clock: list[datetime], pull: Any) -> PullScheduler:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(engine)
    hub = SimpleNamespace(engine=engine)
    every = {"harvest": Schedule(every=timedelta(minutes=15)), "workday": Schedule(every=timedelta(hours=1))}
    return PullScheduler(hub, every, owner, lease_seconds=30, pull=pull, now=lambda: clock[0])


def test_only_due_systems_not_pulled_elsewhere_are_pulled_and_every_pull_is_recorded(tmp_path: Path) -> None:
    clock, pulled = [T0], []

    def pull(hub: Any, system: str, on_page: Any) -> dict[str, Any]:
        pulled.append((system, clock[0]))
        if system == "workday" and clock[0] > T0:
            raise ConnectionError("workday answered 503 past the retry budget")
        return {"records": {"fetched": 2}}

    scheduler = _scheduler(tmp_path, "host-a:1", clock, pull)
    assert len(scheduler.run_due()) == 2  # never pulled: both due
    clock[0] = T0 + timedelta(minutes=10)
    assert scheduler.run_due() == [] and not scheduler.due_now()
    assert scheduler.seconds_to_next() == 300
    clock[0] = T0 + timedelta(minutes=15)
    PullLeases(scheduler.hub.engine, "host-b:2", 30).claim("harvest")  # another worker is pulling it
    assert scheduler.run_due() == []
    clock[0] = T0 + timedelta(hours=1)
    PullLeases(scheduler.hub.engine, "host-b:2", 30).release("harvest")
    assert len(scheduler.run_due()) == 2
    assert pulled == [("harvest", T0), ("workday", T0), ("harvest", clock[0]), ("workday", clock[0])]
    runs = {(r.system, r.started_at): r for r in scheduler.runs.recent()}
    assert (
        runs["harvest", clock[0]].status == "ok"
        and runs["harvest", clock[0]].counts["records"]["fetched"] == 2
    )
    failed = runs["workday", clock[0]]
    assert (
        failed.status == "failed"
        and failed.error == "ConnectionError: workday answered 503 past the retry budget"
    )
    scheduler.hub.engine.dispose()
