"""A source outage past the retry budget ends that system's pull with an exception held in the
queue and its cursor unmoved; the other systems go on (SQLite and PostgreSQL); the hostile
fault profile runs to the end with its faults as exceptions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from handoffs.bootstrap import App, build
from handoffs.engine.breaker import BreakerPolicy, BreakerState, save_state
from handoffs.settings import Settings
from handoffs.simulator.firm import generate_firm, size_named
from handoffs.simulator.server import SimServer
from handoffs.simulator.systems.fleet import Fleet, start_fleet
from handoffs.store.repositories.cursors import CursorRepository
from handoffs.sync.fleet import fleet_systems
from handoffs.sync.onboarding import link_identities, load_master_data
from handoffs.sync.run import sync_systems

TINY = size_named("small", consultants=3, clients=1, projects=1, legal_entities=1)


@contextmanager
def _fleet_hub(database_url: str, tmp_path: Path, faults: str = "none") -> Iterator[tuple[App, Fleet]]:
    firm = generate_firm(11, TINY)
    fleet = start_fleet(firm, tmp_path / "systems", faults=faults)
    hub = build(
        Settings(database_url=database_url, erp="none", backoff_base=0.05),
        systems=fleet_systems(fleet.endpoints(), tmp_path / "handoffs.yaml"),
    )
    try:
        hub.upgrade()
        load_master_data(hub, firm)
        link_identities(hub, firm)
        yield hub, fleet
    finally:
        hub.close()
        fleet.stop()


def _cursors(hub: App) -> dict[tuple[str, str], object]:
    with hub.uow() as uow:
        return dict(CursorRepository(uow.connection, uow.now).all())


@pytest.fixture
def fleet_hub(database_url: str, tmp_path: Path) -> Iterator[tuple[App, Fleet]]:
    with _fleet_hub(database_url, tmp_path) as found:
        yield found


def test_an_outage_is_held_as_an_exception_the_cursor_stays_and_the_others_go_on(
    fleet_hub: tuple[App, Fleet],
) -> None:
    hub, fleet = fleet_hub
    fleet.servers["salesforce"].stop()  # the CRM is down for longer than the retries last

    first = {s.system: s for s in sync_systems(hub)}

    crm = first["salesforce"]
    assert crm.error is not None and "salesforce" in crm.error and crm.failed_resource == "accounts"
    assert crm.pulls == [] and crm.counts()["held"] == 1
    for name in ("workday", "harvest", "expenses"):  # the others were pulled in full
        assert first[name].error is None and first[name].counts()["new"] > 0, first[name].as_dict()
    with hub.uow() as uow:
        assert CursorRepository(uow.connection, uow.now).get("salesforce", "accounts").position is None
    again = sync_systems(hub, ["salesforce"])  # still down: the same exception, not a second
    assert again[0].error is not None
    with hub.uow() as uow:
        held = [e for e in uow.exceptions.list(state="open") if e.source == "salesforce:accounts"]
    assert len(held) == 1 and held[0].category == "system_unavailable"
    assert "cursor kept at the start" in held[0].reason and held[0].detail["kind"] == "pull"

    down = fleet.servers["salesforce"]  # back on the same address: the next sync repeats the pull
    fleet.servers["salesforce"] = SimServer(fleet.systems["salesforce"].app, port=down.port).start()
    with hub.engine.begin() as conn:  # the breaker's cooldown has passed (it opened 31 s ago)
        gone = time.time() - BreakerPolicy().cooldown - 1
        save_state(conn, "salesforce", BreakerState("open", 5, gone), time.time())
    back = sync_systems(hub, ["salesforce"])[0]
    assert back.error is None and back.counts()["pulled"] > 0 and back.won_deals > 0
    with hub.uow() as uow:
        assert CursorRepository(uow.connection, uow.now).get("salesforce", "accounts").position is not None
        assert uow.exceptions.get(held[0].id).state == "resolved"  # type: ignore[union-attr]


def test_hostile_faults_end_as_exceptions_not_a_crash(tmp_path: Path) -> None:
    """Outage windows, throttling, timeouts, duplicates, malformed and drifted records."""
    with _fleet_hub(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path, faults="hostile") as (hub, _):
        stopped = []
        for _ in range(2):  # a pull and the incremental re-pull: neither raises
            before = _cursors(hub)
            results = sync_systems(hub)
            assert [r.system for r in results] == ["workday", "salesforce", "harvest", "expenses"]
            after = _cursors(hub)
            for r in (r for r in results if r.error):  # stopped by an outage: its cursor stayed
                key = (r.system, str(r.failed_resource))
                assert after.get(key) == before.get(key), r.as_dict()
                stopped.append(f"{r.system}:{r.failed_resource}")
        with hub.uow() as uow:
            by_category = uow.exceptions.count_by_category()
            held = {e.source for e in uow.exceptions.list() if e.detail.get("kind") == "pull"}
    assert held == set(stopped) and held  # the outage windows hit, each is an exception
    assert by_category["schema_drift"] > 0  # Harvest changed its record shape: held, not lost
    assert sum(r.counts()["held"] for r in results) > 0
