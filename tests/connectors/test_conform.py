"""``handoffs systems conform``: the packaged conformance kit against simulated systems over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from handoffs.bootstrap import App
from handoffs.cli.main import app
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.harvest import HARVEST_TOKEN, HarvestSim
from handoffs.simulator.systems.netsuite import NetSuiteSim
from handoffs.simulator.systems.salesforce import SalesforceSim
from handoffs.store.tables import audit_log
from handoffs.sync.fleet import fleet_yaml
from tests.connectors.support import firm_invoice

pytest_plugins = ("pytester",)
NOWHERE = {"url": "http://127.0.0.1:9"}


def _yaml(tmp_path: Path, erps: tuple[str, ...] = ("netsuite",), **running: str) -> Path:
    """handoffs.yaml for the simulated fleet, with only the named systems really running."""
    names = ("workday", "salesforce", "harvest", "expenses", "netsuite", "odoo")
    endpoints: dict[str, Any] = {n: {"url": running.get(n, NOWHERE["url"])} for n in names}
    path = tmp_path / "handoffs.yaml"
    path.write_text(fleet_yaml(endpoints, erps=erps), encoding="utf-8")
    return path


def _conform(path: Path, system: str, hub: App | None, *extra: str) -> tuple[int, dict[str, Any]]:
    args = ["systems", "conform", system, "-f", str(path), "--json", *extra]
    if hub is not None:
        args += ["--database-url", hub.settings.database_url]
    result = CliRunner().invoke(app, args)
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {}


def test_a_simulated_source_passes_every_read_only_check(
    firm_hub: App, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    sim = HarvestSim(seeds["harvest"], seed=3)
    path = _yaml(tmp_path, harvest=serve(sim))
    before = {k: [dict(r) for r in v] for k, v in sim.data.items()}
    code, report = _conform(path, "harvest", firm_hub)
    assert code == 0, [c for c in report.get("checks", []) if not c["ok"]]
    names = {c["name"]: c for c in report["checks"]}
    for resource in ("users", "projects", "time_entries"):
        assert names[f"{resource}: full read"]["ok"] and names[f"{resource}: mapping"]["ok"]
        assert names[f"{resource}: incremental read"]["reason"].startswith("since ")
    assert "refused" in names["refuses a wrong credential"]["reason"]
    assert not any(c["writes"] for c in report["checks"]) and report["lookups"] == "hub"
    assert {k: [dict(r) for r in v] for k, v in sim.data.items()} == before  # read-only
    assert HARVEST_TOKEN not in json.dumps(report)


def test_schema_drift_fails_the_mapping_check_with_the_field_and_exit_1(
    firm_hub: App, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    path = _yaml(tmp_path, harvest=serve(HarvestSim(seeds["harvest"], seed=3, schema_drift=True)))
    code, report = _conform(path, "harvest", firm_hub)
    assert code == 1
    failed = [c for c in report["checks"] if not c["ok"]]
    assert failed and any(c["name"] == "time_entries: mapping" and "hours" in c["reason"] for c in failed)


def test_an_erp_is_checked_read_only_unless_writes_are_allowed(
    firm_hub: App, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    sim = NetSuiteSim(seeds["netsuite"], seed=5)
    path = _yaml(tmp_path, netsuite=serve(sim))
    code, report = _conform(path, "netsuite", firm_hub)
    assert code == 0, [c for c in report.get("checks", []) if not c["ok"]]
    assert [c["name"] for c in report["checks"]] == [
        "answers with its credential",
        "refuses a wrong credential",
        "secrets stay out of logs and errors",
    ]
    code, report = _conform(path, "netsuite", firm_hub, "--write")
    assert code == 0, [c for c in report.get("checks", []) if not c["ok"]]
    refused = next(c for c in report["checks"] if c["writes"])
    assert refused["ok"] and "refused" in refused["reason"]
    assert not any(r.get("externalId") == "conformance-unmappable" for r in sim.records["invoice"].values())


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    path = _yaml(tmp_path)
    runner = CliRunner()
    unknown = runner.invoke(app, ["systems", "conform", "nosuch", "-f", str(path)])
    assert unknown.exit_code == 2 and "no system named 'nosuch'" in " ".join(unknown.output.split())
    needs_write = runner.invoke(app, ["systems", "conform", "netsuite", "-f", str(path), "--invoice", "x"])
    assert needs_write.exit_code == 2 and "--write" in needs_write.output


def test_an_erp_posts_a_hub_invoice_once_when_asked_and_the_run_is_audited(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    invoice = firm_invoice(firm)
    with firm_hub.uow() as uow:
        uow.invoices.add(invoice, "conformance")
        uow.commit()
    sim = NetSuiteSim(seeds["netsuite"], seed=5)
    path = _yaml(tmp_path, netsuite=serve(sim))
    code, report = _conform(path, "netsuite", firm_hub, "--write", "--invoice", invoice.id)
    assert code == 0, [c for c in report["checks"] if not c["ok"]]
    posted = next(c for c in report["checks"] if c["name"].startswith("posts "))
    assert posted["writes"] and "both answers name" in posted["reason"]
    assert sum(1 for r in sim.records["invoice"].values() if r.get("externalId") == invoice.id) == 1
    with firm_hub.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_log.c.action))]
    assert "cli.systems.conform" in actions


def test_a_write_back_target_is_checked_without_writing(
    firm_hub: App, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    sim = SalesforceSim(seeds["salesforce"], seed=3)
    path = _yaml(tmp_path, salesforce=serve(sim))
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["systems"]["salesforce"]["write_back"] = {"project_id": "Opportunity.Project_Id__c"}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    code, report = _conform(path, "salesforce", firm_hub)
    target = next(c for c in report["checks"] if c["name"] == "write-back target is writable")
    assert code == 0 and target["ok"] and "Opportunity.Project_Id__c exists" in target["reason"]
    config["systems"]["salesforce"]["write_back"] = {"project_id": "Opportunity.Missing__c"}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    code, report = _conform(path, "salesforce", firm_hub)
    target = next(c for c in report["checks"] if c["name"] == "write-back target is writable")
    assert code == 1 and not target["ok"] and "Opportunity.Missing__c does not exist" in target["reason"]
    assert not [r for r in sim.received if r["operation"] in ("update", "upsert")]  # nothing written


def test_the_pytest_plugin_makes_one_test_per_check(
    pytester: pytest.Pytester, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    path = _yaml(tmp_path, harvest=serve(HarvestSim(seeds["harvest"], seed=3)))
    pytester.makepyfile(
        "def test_conforms(handoffs_check):\n    assert handoffs_check.ok, handoffs_check.reason\n"
    )
    args = ["-p", "handoffs.conformance.pytest_plugin", "--handoffs-conform", "harvest"]
    result = pytester.runpytest_inprocess(*args, "--handoffs-file", str(path), "-v", "-p", "no:cacheprovider")
    # no hub database: the two mappings that look hub records up fail, each with its reason
    result.assert_outcomes(passed=10, failed=2)
    result.stdout.fnmatch_lines(["*test_conforms?harvest: time_entries: mapping? FAILED*"])
