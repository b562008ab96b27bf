"""``handoffs systems check`` against a running simulated fleet: valid file, every system answers."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from handoffs.cli.main import app
from handoffs.connectors.kit.fleet import fleet_systems
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.fleet import start_fleet


def test_every_system_of_the_fleet_is_reachable_then_one_is_not(firm: Firm, tmp_path: Path) -> None:
    fleet = start_fleet(firm, tmp_path / "systems", poll=0.05)
    try:
        fleet_systems(fleet.endpoints(), tmp_path / "handoffs.yaml")
        result = CliRunner().invoke(
            app, ["systems", "check", "-f", str(tmp_path / "handoffs.yaml"), "--json"]
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
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
