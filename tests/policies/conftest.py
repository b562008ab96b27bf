"""Fixtures: a hub under the test policy, on SQLite and PostgreSQL (see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoffs.bootstrap import App
from tests.policies.support import book, hub_on


@pytest.fixture
def policy_hub(database_url: str) -> Iterator[App]:
    """A hub whose policy ``test@v1`` asks for a second approver above 7 hours."""
    app = hub_on(database_url, book((1, "7", "2026-01-01")))
    yield app
    app.close()
