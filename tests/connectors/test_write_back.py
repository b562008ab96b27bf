"""Write-backs over real HTTP: the project id reaches the won opportunity in the simulated
Salesforce as an idempotent delivery (SQLite and PostgreSQL); a refusal is an exception of
its own; handoffs.yaml enables only what the real API accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from handoffs.bootstrap import App, build
from handoffs.cli.main import app
from handoffs.config.systems import SystemsConfigError, parse_systems
from handoffs.connectors.expenses import ExpenseConfig, ExpenseConnector
from handoffs.connectors.fake.erp import InMemoryErp
from handoffs.connectors.salesforce import SalesforceConfig, SalesforceConnector
from handoffs.connectors.secrets import Secret
from handoffs.engine.errors import TerminalError
from handoffs.flows.operations import request_billing
from handoffs.settings import Settings
from handoffs.simulator.systems.expenses import EXPENSES_API_KEY, ExpenseSim
from handoffs.simulator.systems.salesforce import SF_CLIENT_ID, SF_CLIENT_SECRET, SalesforceSim
from handoffs.sync.deals import hand_over_won_deals
from tests.connectors.support import FAST, exception_rows, pull
from tests.connectors.test_http_sources import _spec
from tests.support.flow import drain


def _crm(url: str, field: str = "Opportunity.Project_Id__c") -> SalesforceConnector:
    config = SalesforceConfig(url, SF_CLIENT_ID, Secret(SF_CLIENT_SECRET), write_back={"project_id": field})
    return SalesforceConnector("salesforce", config, policy=FAST)


def _hand_over(hub: App, sim: SalesforceSim, crm: SalesforceConnector) -> None:
    hub.ports.erps["erp"] = InMemoryErp()
    hub.ports.write_backs["salesforce"] = crm
    pull(hub, crm, "accounts", _spec("salesforce", "accounts"))
    hand_over_won_deals(hub.uow, hub.ports, crm)
    drain(hub)


def test_the_project_id_reaches_each_won_opportunity_once(any_db_hub: App, seeds: Any, serve: Any) -> None:
    sim = SalesforceSim(seeds["salesforce"], seed=3)
    crm = _crm(serve(sim))
    _hand_over(any_db_hub, sim, crm)
    won = [d for d in sim.objects["Opportunity"] if d["IsWon"]]
    with any_db_hub.uow() as uow:
        for deal in won:
            assert deal["Project_Id__c"] == uow.xrefs.canonical_id("salesforce", "project", deal["Id"])
        first = uow.messages.count_by_type()["WriteBack"]
    assert first == len(won)
    assert all(d["Project_Id__c"] is None for d in sim.objects["Opportunity"] if not d["IsWon"])
    updates = [r for r in sim.received if r["operation"] == "update"]
    assert len(updates) == len(won)

    hand_over_won_deals(any_db_hub.uow, any_db_hub.ports, crm)  # the write moved SystemModstamp
    drain(any_db_hub)
    with any_db_hub.uow() as uow:
        assert uow.messages.count_by_type()["WriteBack"] == first  # nothing asked twice
        assert uow.deliveries.count_by_status() == {"confirmed": 2 * len(won)}  # contracts + write-backs
    assert len([r for r in sim.received if r["operation"] == "update"]) == len(won)


def test_a_refused_write_back_is_its_own_exception_and_a_failed_delivery(
    firm_hub: App, seeds: Any, serve: Any
) -> None:
    sim = SalesforceSim(seeds["salesforce"], seed=3)
    url = serve(sim)
    _hand_over(firm_hub, sim, _crm(url, "Opportunity.Not_In_This_Org__c"))
    won = [d for d in sim.objects["Opportunity"] if d["IsWon"]]
    rows = [r for r in exception_rows(firm_hub) if r.category == "write_back"]
    assert len(rows) == len(won)
    assert "No such column 'Not_In_This_Org__c' on sobject of type Opportunity" in rows[0].reason
    assert rows[0].detail is not None
    with firm_hub.uow() as uow:
        assert uow.deliveries.count_by_status() == {"confirmed": len(won), "failed": len(won)}
    assert "Not_In_This_Org__c" not in sim.objects["Opportunity"][0]

    firm_hub.ports.write_backs["salesforce"] = _crm(url)  # the field exists now
    args = ["exceptions", "retry", str(rows[0].id), "--reason", "field created"]
    result = CliRunner().invoke(app, [*args, "--database-url", firm_hub.settings.database_url])
    assert result.exit_code == 0, result.output
    drain(firm_hub)
    with firm_hub.uow() as uow:
        assert uow.deliveries.count_by_status() == {"confirmed": len(won) + 1, "failed": len(won) - 1}
    assert sum(1 for d in won if d["Project_Id__c"]) == 1


def test_the_simulator_refuses_what_salesforce_refuses(seeds: Any, serve: Any) -> None:
    sim = SalesforceSim(seeds["salesforce"], seed=3)
    url = serve(sim)
    deal = sim.objects["Opportunity"][0]
    with pytest.raises(TerminalError, match="INVALID_FIELD_FOR_INSERT_UPDATE"):
        _crm(url, "Opportunity.IsWon").write_back("project_id", deal["Id"], "x", "k")
    with pytest.raises(TerminalError, match="MALFORMED_ID"):
        _crm(url).write_back("project_id", "not-an-id", "x", "k")
    with pytest.raises(TerminalError, match="NOT_FOUND"):
        _crm(url).write_back("project_id", "006Sim999999999AAA", "x", "k")
    assert deal["Project_Id__c"] is None and deal["IsWon"] in (True, False)


def _yaml(entry: str) -> str:
    return (
        "version: 1\nsystems:\n  crm:\n    role: crm\n    connector: salesforce\n"
        "    base_url: http://127.0.0.1:9\n    credentials: {client_id: value:x, client_secret: value:y}\n"
        f"    write_back: {entry}\n"
    )


def test_handoffs_yaml_enables_only_what_the_real_api_accepts(tmp_path: Path) -> None:
    config = parse_systems(_yaml("{project_id: Opportunity.Project_Id__c}"))
    hub = build(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", erp="none"), systems=config)
    try:
        assert hub.ports.write_backs["crm"].write_back_kinds() == {"project_id"}
    finally:
        hub.close()
    for entry, said in (
        ("{project_id: Opportunity.StageName}", "custom field of Opportunity"),
        ("{project_id: Account.Project_Id__c}", "custom field of Opportunity"),
        ("{invoiced: yes}", "takes no 'invoiced' write-back"),
    ):
        with pytest.raises(SystemsConfigError, match=said) as refused:
            parse_systems(_yaml(entry))
        assert ":8:" in str(refused.value)  # the write_back line
    tool = _yaml("{invoiced: export}").replace("connector: salesforce", "connector: expenses")
    assert parse_systems(tool).systems["crm"].entry["write_back"] == {"invoiced": "export"}
    with pytest.raises(SystemsConfigError, match="the report's export mark"):
        parse_systems(tool.replace("invoiced: export", "invoiced: paid"))
    harvest = _yaml("{invoiced: true}").replace("connector: salesforce", "connector: harvest")
    with pytest.raises(SystemsConfigError, match="only through its own invoices"):
        parse_systems(harvest)


def test_each_invoiced_expense_report_is_marked_with_its_invoice_once(
    firm_hub: App, seeds: Any, serve: Any
) -> None:
    sim = ExpenseSim(seeds["expenses"], seed=3)
    config = ExpenseConfig(serve(sim), Secret(EXPENSES_API_KEY), write_back={"invoiced": "export"})
    tool = ExpenseConnector("expenses", config, policy=FAST)
    firm_hub.ports.erps |= {"erp": InMemoryErp(), "erp2": InMemoryErp()}  # each posting is an event
    firm_hub.ports.write_backs["expenses"] = tool
    pull(firm_hub, tool, "expenses", _spec("expenses", "expenses"))
    with firm_hub.uow() as uow:
        request_billing(uow, firm_hub.ports, "2025-03")
        uow.commit()
    drain(firm_hub)
    with firm_hub.uow() as uow:
        billed = {
            s.id: inv.id
            for inv, _ in uow.invoices.iter_all()
            for line in inv.lines
            for s in line.sources
            if s.type == "expense"
        }
    wanted: dict[str, set[str]] = {}
    for report in sim.reports.values():
        for line in report["line_items"]:
            if line["id"] in billed:
                wanted.setdefault(report["id"], set()).add(billed[line["id"]])
    assert wanted, "the period bills expenses"
    for report_id, report in sim.reports.items():
        assert (report.get("exported") or {}).get("reference") in wanted.get(report_id, {None})
    exports = [r for r in sim.received if r["operation"] == "export"]
    assert len(exports) == sum(len(v) for v in wanted.values())  # two ERPs, one mark each
