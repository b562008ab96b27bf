"""A hub with an exception to triage and a reconciliation break, console users of each role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from handoffs.api import create_app
from handoffs.bootstrap import App
from handoffs.console.users import add_user
from tests.support.flow import drain, firm_lines, load

PASSWORDS = {"vera": "viewer-secret", "otto": "operator-secret", "ada": "admin-secret"}
ROLES = {"vera": "viewer", "otto": "operator", "ada": "admin"}


@dataclass
class Firm:
    """What the seeded hub holds: the bad line's exception, its corrected line, the break."""

    exception_id: int
    good_line: str
    bad_line: str
    period: str
    entity: str
    project: str
    late_entry: str


def seed_firm(hub: App) -> Firm:
    """Two projects' time: one entry fails to load (hours 'n/a'); one approved entry arrives
    after the worker ran, so it is approved and on no invoice (a ``not_billed`` break)."""
    lines = firm_lines(entries=30, projects=2)
    entries = [line for line in lines if '"time_entry"' in line]
    late, good = entries[-1], entries[0]
    bad = orjson.dumps({**orjson.loads(good), "hours": "n/a"}).decode()
    rest = [line for line in lines if line not in (late, good)]
    assert load(hub, [*rest, bad]).failed == 1
    drain(hub)
    assert load(hub, [late]).failed == 0
    with hub.uow() as uow:
        (exception,) = uow.exceptions.list(category="validation")
        for name, role in ROLES.items():
            add_user(uow.connection, name, role, PASSWORDS[name], uow.now)
        uow.commit()
    data = orjson.loads(late)
    return Firm(exception.id, good, bad, data["work_date"][:7], "LE-US", data["project_id"], data["id"])


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


def sign_in(http: TestClient, name: str, password: str | None = None) -> str:
    """Sign ``name`` in; returns the session's CSRF token (from the overview page)."""
    form = http.get("/console/login")
    response = http.post(
        "/console/login",
        data={"name": name, "password": password or PASSWORDS[name], "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/", response.text
    return csrf_of(http.get("/console/").text)


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


@dataclass
class Console:
    hub: App
    app: FastAPI
    firm: Firm

    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=True, follow_redirects=False)


@pytest.fixture
def console(hub: App) -> Console:
    firm = seed_firm(hub)
    return Console(hub, create_app(hub), firm)


def add_dead_letter(hub: App) -> tuple[int, str]:
    """An approved entry for a role its contract has no rate for: pricing dead-letters it. Then
    the rate is added, so replaying it would price (and bill) the entry. Returns the exception's
    id and the entry's id."""
    lines = [orjson.loads(x) for x in firm_lines(entries=30, projects=2)]
    entry = next(x for x in lines if x["type"] == "time_entry" and x["project_id"] == "P-001")
    entry |= {"id": "TE-ASTRO-1", "role": "astronaut", "hours": "8"}
    assert load(hub, [orjson.dumps(entry).decode()]).failed == 0
    drain(hub)
    contract = next(x for x in lines if x["type"] == "contract" and x["id"] == "K-001")
    for version in contract["rate_card"]:
        version["rates"]["astronaut"] = "1250.00"
    contract["source_version"] = int(contract.get("source_version") or 1) + 1
    assert load(hub, [orjson.dumps(contract).decode()]).failed == 0
    with hub.uow() as uow:
        [dead] = [
            x
            for x in uow.exceptions.list(state="open")
            if x.object_id == "TE-ASTRO-1" or "astronaut" in x.reason
        ]
    return dead.id, entry["id"]
