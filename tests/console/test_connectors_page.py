"""The connectors page: last sync, last error and "sync now" of a pulled system (SQLite)."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from handoffs.api import create_app
from handoffs.bootstrap import App, build
from handoffs.config.systems import parse_systems
from handoffs.console.users import add_user
from handoffs.settings import Settings
from handoffs.store.tables import audit_log
from handoffs.sync.leases import SyncRuns
from tests.connectors.test_acquired_csv import CONFIG, HEADER, ROOT
from tests.console.conftest import PASSWORDS, ROLES, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def synced_hub(database_url: str, tmp_path: Path) -> Iterator[App]:
    """A hub whose systems file names a CSV time tool; its export holds two rows for unknown
    people, so a pull stores the cursor and opens exceptions naming the system."""
    inbox = tmp_path / "drops" / "acquired-time" / "inbox"
    inbox.mkdir(parents=True)
    with (inbox / "2025-03.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for n in (1, 2):
            row = [f"7000{n}", "R-9", "r9@x.example", "P-404", "", "", "Yes", "2025-03-03", "2", "Yes"]
            writer.writerow([*row, "2025-04-01T09:00:00Z"])
    text = CONFIG.format(mapping=ROOT / "mappings" / "acquired_time.yaml")
    systems = parse_systems(text, str(tmp_path / "handoffs.yaml"), tmp_path)
    hub = build(Settings(database_url=database_url, erp="memory"), systems=systems)
    hub.upgrade()
    with hub.uow() as uow:
        for name, role in ROLES.items():
            add_user(uow.connection, name, role, PASSWORDS[name], uow.now)
        uow.commit()
    yield hub
    hub.close()


def test_sync_now_pulls_in_the_background_and_the_page_shows_the_last_sync_and_error(synced_hub: App) -> None:
    app = create_app(synced_hub)
    http = TestClient(app, follow_redirects=False)
    csrf = sign_in(http, "otto")
    before = http.get("/console/connectors").text
    assert "acquired_time" in before and "never" in before and 'data-testid="sync-acquired_time"' in before

    started = http.post("/console/connectors/acquired_time/sync", data={"csrf": csrf})
    assert started.status_code == 303 and started.headers["location"] == "/console/connectors?done=sync"
    runs = SyncRuns(synced_hub.engine)
    for _ in range(1200):  # the pull runs in a background thread, recorded as a sync run
        done = [r for r in runs.recent("acquired_time") if r.status != "running"]
        if done:
            break
        time.sleep(0.05)
    [run] = done
    assert (run.status, run.error, run.owner) == ("ok", None, "console:otto")
    assert run.counts["time_entries"]["fetched"] == 2
    again = http.post("/console/connectors/nowhere/sync", data={"csrf": csrf})
    assert again.status_code == 409 and "No pull connector named nowhere" in again.text

    page = http.get("/console/connectors").text
    pulled = page.split('data-testid="pulled"')[1].split("</table>")[0]
    assert "time_entries" in pulled and "never" not in pulled and "UTC" in pulled  # the last sync time
    with synced_hub.uow() as uow:
        last = max(x.id for x in uow.exceptions.list() if x.source.startswith("acquired_time:"))
        actions = list(uow.connection.execute(select(audit_log.c.action, audit_log.c.actor)))
    assert f'href="/console/exceptions/{last}"' in pulled  # the last error links to its exception
    assert "/console/exceptions?system=acquired_time&amp;state=open" in pulled
    history = page.split('data-testid="runs"')[1].split("</table>")[0]
    assert "console:otto" in history and "done" in history and "time_entries" in history
    assert ("console.sync_now", "console:otto") in actions

    viewer = TestClient(app, follow_redirects=False)
    token = sign_in(viewer, "vera")
    assert 'data-testid="sync-acquired_time"' not in viewer.get("/console/connectors").text
    assert viewer.post("/console/connectors/acquired_time/sync", data={"csrf": token}).status_code == 403
