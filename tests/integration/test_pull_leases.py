"""Pull leases and sync runs on SQLite and PostgreSQL: one holder, taken over after expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoffs.store.db import make_engine
from handoffs.sync.leases import PullLeases, SyncRuns


def test_one_worker_holds_a_system_until_its_lease_expires(database_url: str) -> None:
    engine = make_engine(database_url)
    clock = [1000.0]
    a = PullLeases(engine, "host-a:1", 2.0, lambda: clock[0])
    b = PullLeases(engine, "host-b:2", 2.0, lambda: clock[0])
    try:
        assert a.claim("harvest") and not b.claim("harvest")
        assert b.claim("workday")  # one lease per system
        clock[0] += 1.5
        assert a.renew("harvest") and not b.claim("harvest")  # renewed: still a's
        clock[0] += 2.5  # a stopped renewing (killed): b takes over
        assert b.claim("harvest")
        assert not a.renew("harvest")  # a, if it wakes up, learns it lost the system
        a.release("harvest")  # and releasing what it no longer holds changes nothing
        assert not a.claim("harvest")
        b.release("harvest")
        assert a.claim("harvest")
    finally:
        engine.dispose()


def test_a_run_left_running_by_a_dead_puller_is_closed_as_abandoned(database_url: str) -> None:
    engine = make_engine(database_url)
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    runs = SyncRuns(engine, lambda: now[0])
    try:
        dead = runs.start("harvest", "host-a:1")
        now[0] += timedelta(seconds=30)
        alive = runs.start("harvest", "host-b:2")
        now[0] += timedelta(seconds=5)
        runs.finish(alive, {"time_entries": {"fetched": 3}})
        failed = runs.start("workday", "host-b:2")
        runs.finish(failed, {}, "TransientError: 503")
        by_id = {r.id: r for r in runs.recent()}
        assert by_id[dead].status == "abandoned" and by_id[dead].finished_at == now[0] - timedelta(seconds=5)
        assert by_id[alive].status == "ok" and by_id[alive].counts == {"time_entries": {"fetched": 3}}
        assert by_id[failed].status == "failed" and by_id[failed].error == "TransientError: 503"
        assert runs.last_started() == {"harvest": now[0] - timedelta(seconds=5), "workday": now[0]}
        assert [r.id for r in runs.recent("harvest")] == [alive, dead]
    finally:
        engine.dispose()
