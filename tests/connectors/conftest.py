"""Fixtures for connector tests: a small firm, its hub on SQLite and PostgreSQL, servers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handoffs.bootstrap import App, build
from handoffs.settings import Settings
from handoffs.simulator.firm import Firm, generate_firm
from handoffs.simulator.firm.files import native_seeds
from handoffs.simulator.systems.common import SimSystem
from handoffs.sync.onboarding import link_identities, load_master_data


@pytest.fixture(scope="session")
def firm() -> Firm:
    return generate_firm(11, "small")


@pytest.fixture(scope="session")
def seeds(firm: Firm) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return native_seeds(firm)


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start a simulated system; every server started through it stops after the test."""
    started = []

    def start(system: SimSystem) -> str:
        server = system.serve().start()
        started.append(server)
        return server.base_url

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def firm_hub(tmp_path: Any, firm: Firm) -> Iterator[App]:
    """A hub on SQLite with the firm's master data and identity links (the onboarding state)."""
    app = build(Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", erp="none", backoff_base=0.01))
    app.upgrade()
    load_master_data(app, firm)
    link_identities(app, firm)
    yield app
    app.close()


@pytest.fixture
def any_db_hub(database_url: str, firm: Firm) -> Iterator[App]:
    """Like ``firm_hub``, on SQLite and on PostgreSQL."""
    app = build(Settings(database_url=database_url, erp="none", backoff_base=0.01, max_attempts=4))
    load_master_data(app, firm)
    link_identities(app, firm)
    yield app
    app.close()
