"""Fixtures for the simulator tests: a small generated firm and running systems."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handoffs.simulator.firm import Firm, generate_firm
from handoffs.simulator.firm.files import native_seeds
from handoffs.simulator.systems.common import SimSystem


@pytest.fixture(scope="session")
def small_firm() -> Firm:
    return generate_firm(11, "small")


@pytest.fixture(scope="session")
def seeds(small_firm: Firm) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return native_seeds(small_firm)


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start a system's server; every server started through it stops after the test."""
    started = []

    def start(system: SimSystem) -> str:
        server = system.serve().start()
        started.append(server)
        return server.base_url

    yield start
    for server in started:
        server.stop()
