"""The conformance kit as pytest tests, for a firm's own CI.

Enable it with ``-p handoffs.conformance.pytest_plugin`` (or ``pytest_plugins = [...]`` in a
conftest) and write one test that takes the ``handoffs_check`` fixture::

    def test_conforms(handoffs_check):
        assert handoffs_check.ok, handoffs_check.reason

then ``pytest --handoffs-conform harvest --handoffs-conform netsuite`` runs that test once
per check of each named system (ids like ``harvest: time_entries: mapping``), read-only
unless ``--handoffs-write``. The checks run while tests are collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

__all__ = ["pytest_addoption", "pytest_generate_tests"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("handoffs", "Handoffs conformance kit")
    group.addoption(
        "--handoffs-conform", action="append", default=[], metavar="SYSTEM", help="A system to check."
    )
    group.addoption("--handoffs-file", default="handoffs.yaml", help="The systems configuration.")
    group.addoption("--handoffs-database-url", default=None, help="The hub whose store answers lookups.")
    group.addoption("--handoffs-write", action="store_true", help="Also run the checks that write.")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "handoffs_check" not in metafunc.fixturenames:
        return
    option = metafunc.config.getoption
    checks = _checks(
        option("handoffs_conform"),
        Path(option("handoffs_file")),
        option("handoffs_database_url"),
        bool(option("handoffs_write")),
    )
    metafunc.parametrize("handoffs_check", [c for _, c in checks], ids=[i for i, _ in checks])


def _checks(systems: list[str], file: Path, database_url: str | None, write: bool) -> list[tuple[str, Any]]:
    from handoffs.bootstrap import build
    from handoffs.config.systems import load_systems
    from handoffs.conformance import run_checks
    from handoffs.connectors.http import HttpPolicy
    from handoffs.connectors.mapping import NoLookups
    from handoffs.settings import Settings
    from handoffs.sync.lookups import StoreLookups

    config = load_systems(file)
    hub = build(Settings.from_env(database_url=database_url, erp="none")) if database_url else None
    policy = HttpPolicy(connect_timeout=3, read_timeout=10, attempts=3, backoff=0.2, max_wait=2)
    try:
        lookups = StoreLookups(hub.engine) if hub else NoLookups()
        found = []
        for system in systems:
            if system not in config.systems:
                raise pytest.UsageError(f"{file} has no system named {system!r}")
            for check in run_checks(config.systems[system], lookups, write=write, policy=policy):
                found.append((f"{system}: {check.name}", check))
        return found
    finally:
        if hub is not None:
            hub.close()
