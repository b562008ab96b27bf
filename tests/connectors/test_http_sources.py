"""Every HTTP source connector passes the conformance suite against its simulated system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handoffs.connectors.expenses import ExpenseConfig, ExpenseConnector
from handoffs.connectors.harvest import HarvestConfig, HarvestConnector
from handoffs.connectors.mapping import MappingSpec, load_mapping
from handoffs.connectors.registry import builtin_mapping
from handoffs.connectors.salesforce import SalesforceConfig, SalesforceConnector
from handoffs.connectors.secrets import Secret
from handoffs.connectors.workday import WorkdayConfig, WorkdayConnector
from handoffs.simulator.systems.expenses import EXPENSES_API_KEY, ExpenseSim
from handoffs.simulator.systems.harvest import HARVEST_ACCOUNT_ID, HARVEST_TOKEN, HarvestSim
from handoffs.simulator.systems.salesforce import SF_CLIENT_ID, SF_CLIENT_SECRET, SalesforceSim
from handoffs.simulator.systems.workday import (
    WORKDAY_PASSWORD,
    WORKDAY_REPORT,
    WORKDAY_TENANT,
    WORKDAY_USER,
    WorkdaySim,
)
from tests.connectors.conformance import SourceConformance
from tests.connectors.support import FAST, pull


def _spec(kind: str, name: str) -> MappingSpec:
    path = builtin_mapping(kind)
    assert path is not None
    return load_mapping(path).get(name)


class TestHarvestTimeEntries(SourceConformance):
    system, resource, drift_field = "harvest", "time_entries", "hours"

    def start(
        self, seeds: Any, serve: Any, tmp_path: Path, faults: str = "none", **o: Any
    ) -> tuple[Any, Any]:
        sim = HarvestSim(seeds["harvest"], faults=faults, seed=3, **o)
        self.url = serve(sim)
        return sim, self._connector(HARVEST_TOKEN)

    def _connector(self, token: str) -> HarvestConnector:
        config = HarvestConfig(self.url, HARVEST_ACCOUNT_ID, Secret(token), per_page=100)
        return HarvestConnector("harvest", config, policy=FAST)

    def spec(self) -> MappingSpec:
        return _spec("harvest", "time_entries")

    def truth(self, sim: Any) -> set[str]:
        return {str(r["id"]) for r in sim.data["time_entries"]}

    def touch(self, sim: Any, key: str) -> None:
        self._connector(HARVEST_TOKEN).mark_billed(key)  # approved entries are locked; billing moves them

    def secret(self) -> str:
        return HARVEST_TOKEN

    def bad_connector(self, url: str, tmp_path: Path) -> Any:
        return self._connector("wrong-secret-harvest")

    def test_mark_billed_reaches_harvest(self, seeds: Any, serve: Any, tmp_path: Path) -> None:
        sim, connector = self.start(seeds, serve, tmp_path)
        key = sorted(self.truth(sim))[0]
        connector.mark_billed(key)
        assert sim.entries[int(key)]["is_billed"] is True


class TestWorkdayWorkers(SourceConformance):
    system, resource, drift_field = "workday", "workers", "cost_rate"
    single_page = True  # RaaS returns the whole report in one response

    def start(
        self, seeds: Any, serve: Any, tmp_path: Path, faults: str = "none", **o: Any
    ) -> tuple[Any, Any]:
        sim = WorkdaySim(seeds["workday"], faults=faults, seed=3, **o)
        self.url = serve(sim)
        return sim, self._connector(WORKDAY_PASSWORD)

    def _connector(self, password: str) -> WorkdayConnector:
        config = WorkdayConfig(self.url, WORKDAY_TENANT, WORKDAY_USER, Secret(password), WORKDAY_REPORT)
        return WorkdayConnector("workday", config, policy=FAST)

    def spec(self) -> MappingSpec:
        return _spec("workday", "workers")

    def truth(self, sim: Any) -> set[str]:
        return {w["Employee_ID"] for w in sim.workers}

    def touch(self, sim: Any, key: str) -> None:
        sim.update_worker(key, Job_Profile=sim.workers[0]["Job_Profile"])

    def secret(self) -> str:
        return WORKDAY_PASSWORD

    def bad_connector(self, url: str, tmp_path: Path) -> Any:
        return self._connector("wrong-secret-workday")


class TestExpenseLines(SourceConformance):
    system, resource, drift_field = "expenses", "expenses", "resource_id"

    def start(
        self, seeds: Any, serve: Any, tmp_path: Path, faults: str = "none", **o: Any
    ) -> tuple[Any, Any]:
        sim = ExpenseSim(seeds["expenses"], faults=faults, seed=3, **o)
        self.url = serve(sim)
        return sim, self._connector(EXPENSES_API_KEY)

    def _connector(self, key: str) -> ExpenseConnector:
        return ExpenseConnector("expenses", ExpenseConfig(self.url, Secret(key), limit=20), policy=FAST)

    def spec(self) -> MappingSpec:
        return _spec("expenses", "expenses")

    def truth(self, sim: Any) -> set[str]:
        return {line["id"] for r in sim.reports.values() for line in r["line_items"]}

    def touch(self, sim: Any, key: str) -> None:
        report = next(r for r in sim.reports.values() if any(line["id"] == key for line in r["line_items"]))
        others = [line for line in report["line_items"] if line["id"] != key]
        report["line_items"] = [line for line in report["line_items"] if line["id"] == key]
        report["updated_at"] = sim.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        sim.reports[report["id"] + "-rest"] = {**report, "id": report["id"] + "-rest", "line_items": others}
        sim.reports[report["id"] + "-rest"]["updated_at"] = "2000-01-01T00:00:00Z"

    def secret(self) -> str:
        return EXPENSES_API_KEY

    def bad_connector(self, url: str, tmp_path: Path) -> Any:
        return self._connector("wrong-secret-expenses")


def _padded(seeds: dict[str, Any], n: int = 450) -> dict[str, Any]:
    """The CRM's records plus ``n`` won deals, so queries span several 200-record batches."""
    crm = {k: list(v) for k, v in seeds["salesforce"].items()}
    template = next(o for o in crm["Opportunity"] if o["IsWon"])
    crm["Opportunity"] += [
        {
            **template,
            "Id": f"006Pad{i:09d}AAA",
            "External_Id__c": f"opp-pad-{i}",
            "Handoffs_Contract__c": f"ctr-pad-{i}",
        }
        for i in range(n)
    ]
    return crm


class TestSalesforceWonDeals(SourceConformance):
    system, resource, drift_field = "salesforce", "opportunities", "stage"

    def start(
        self, seeds: Any, serve: Any, tmp_path: Path, faults: str = "none", **o: Any
    ) -> tuple[Any, Any]:
        sim = SalesforceSim(_padded(seeds), faults=faults, seed=3, **o)
        self.url = serve(sim)
        return sim, self._connector(SF_CLIENT_SECRET)

    def _connector(self, secret: str) -> SalesforceConnector:
        write_back = {"project_id": "Opportunity.Project_Id__c"}
        config = SalesforceConfig(
            self.url, SF_CLIENT_ID, Secret(secret), batch_size=200, write_back=write_back
        )
        return SalesforceConnector("salesforce", config, policy=FAST)

    def spec(self) -> MappingSpec:
        return _spec("salesforce", "opportunities")

    def truth(self, sim: Any) -> set[str]:
        return {r["Id"] for r in sim.objects["Opportunity"] if r["IsWon"]}

    def touch(self, sim: Any, key: str) -> None:
        self._connector(SF_CLIENT_SECRET).write_back("project_id", key, "prj-0001", "k")

    def secret(self) -> str:
        return SF_CLIENT_SECRET

    def bad_connector(self, url: str, tmp_path: Path) -> Any:
        return self._connector("wrong-secret-salesforce")

    def test_accounts_keep_the_hubs_legal_entity(
        self, firm_hub: Any, seeds: Any, serve: Any, tmp_path: Path
    ) -> None:
        sim, connector = self.start(seeds, serve, tmp_path)
        report = pull(firm_hub, connector, "accounts", _spec("salesforce", "accounts"))
        assert report.mapped == len(sim.objects["Account"]) and report.failed == 0
        assert set(report.load.outcomes) <= {"unchanged", "updated"}
