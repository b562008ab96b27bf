"""``handoffs systems check`` against a running simulated fleet: valid file, every system answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from handoffs.cli.main import app
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.fleet import start_fleet
from handoffs.simulator.systems.harvest import HARVEST_ACCOUNT_ID, HARVEST_TOKEN
from handoffs.sync.fleet import fleet_systems


def test_every_system_of_the_fleet_is_reachable_then_one_is_not(firm: Firm, tmp_path: Path) -> None:
    fleet = start_fleet(firm, tmp_path / "systems", poll=0.05)
    try:
        fleet_systems(fleet.endpoints(), tmp_path / "handoffs.yaml")
        result = CliRunner().invoke(
            app, ["systems", "check", "-f", str(tmp_path / "handoffs.yaml"), "--json"]
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert {s["system"] for s in report["systems"] if s["reachable"]} == {
            "workday", "salesforce", "harvest", "expenses", "netsuite", "odoo", "legacy_gl"
        }  # fmt: skip
        assert "sim-" not in result.output  # no credential value is ever printed
        fleet.servers["harvest"].stop()
        down = CliRunner().invoke(app, ["systems", "check", "-f", str(tmp_path / "handoffs.yaml"), "--json"])
        assert down.exit_code == 1
        harvest = next(s for s in json.loads(down.output)["systems"] if s["system"] == "harvest")
        assert harvest["reachable"] is False
    finally:
        fleet.stop()


def test_an_invalid_file_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "handoffs.yaml").write_text("version: 1\nsystems:\n  x:\n    role: erp\n    connector: sap\n")
    result = CliRunner().invoke(app, ["systems", "check", "-f", str(tmp_path / "handoffs.yaml")])
    assert result.exit_code == 2 and ":5:" in result.output


def test_the_example_file_at_the_repository_root_is_valid() -> None:
    from handoffs.config.systems import load_systems

    root = Path(__file__).resolve().parents[2]
    config = load_systems(root / "handoffs.yaml")
    assert config.by_role("erp") and config.systems["acquired_time"].connector == "csv_time"


def test_pulls_wired_from_handoffs_yaml_share_the_engine_rate_limit_and_breaker(
    firm: Firm, seeds: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from handoffs.bootstrap import build
    from handoffs.config.systems import parse_systems
    from handoffs.connectors.registry import load_system_mapping
    from handoffs.settings import Settings
    from handoffs.simulator.systems.harvest import HarvestSim
    from handoffs.store.tables import circuit_breakers, rate_limits
    from handoffs.sync.onboarding import link_identities, load_master_data
    from tests.connectors.support import pull

    sim = HarvestSim(seeds["harvest"], seed=1)
    with sim.serve() as server:
        text = (
            "version: 1\nsystems:\n  harvest:\n    role: time\n    connector: harvest\n"
            f"    base_url: {server.base_url}\n    credentials:\n      token: env:HO_TEST_HARVEST\n"
            f"      account_id: '{HARVEST_ACCOUNT_ID}'\n    limits: {{rate: 5, burst: 3}}\n"
        )
        monkeypatch.setenv("HO_TEST_HARVEST", HARVEST_TOKEN)  # the token comes from the environment
        systems = parse_systems(text, str(tmp_path / "handoffs.yaml"), tmp_path)
        app = build(Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", erp="none"), systems=systems)
        app.upgrade()
        load_master_data(app, firm)
        link_identities(app, firm)
        mapping = load_system_mapping(systems.systems["harvest"])
        assert mapping is not None
        report = pull(app, app.sources["harvest"], "time_entries", mapping.get("time_entries"))
        with app.engine.connect() as conn:
            buckets = {r.key for r in conn.execute(select(rate_limits.c.key))}
            breakers = {r.system: r.state for r in conn.execute(select(circuit_breakers))}
        app.close()
    assert report.mapped == len(sim.entries)
    assert "system:harvest" in buckets and breakers["harvest"] == "closed"
