"""Won deals from the simulated Salesforce go through the opportunity-to-project flow
(hub on SQLite and PostgreSQL): registered deals are matched, a new deal becomes a project,
an amended deal a new contract version, never a second project; IsWon decides, not the stage."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from handoffs.bootstrap import App
from handoffs.connectors.fake.erp import InMemoryErp
from handoffs.connectors.salesforce import SalesforceConfig, SalesforceConnector
from handoffs.connectors.secrets import Secret
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.salesforce import SF_CLIENT_ID, SF_CLIENT_SECRET, SalesforceSim
from handoffs.sync.deals import hand_over_won_deals
from tests.connectors.support import FAST, pull
from tests.connectors.test_http_sources import _spec
from tests.support.flow import drain


def _counts(hub: App) -> dict[str, int]:
    with hub.uow() as uow:
        return uow.messages.count_by_type()


def _touch(deal: dict[str, Any], stamp: str) -> None:
    deal["SystemModstamp"] = deal["LastModifiedDate"] = stamp


def test_won_deals_are_matched_then_amended_never_a_second_project(
    any_db_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    hub, erp = any_db_hub, InMemoryErp()
    hub.ports.erps["erp"] = erp
    sim = SalesforceSim(seeds["salesforce"], seed=3)
    crm = SalesforceConnector(
        "salesforce", SalesforceConfig(serve(sim), SF_CLIENT_ID, Secret(SF_CLIENT_SECRET)), policy=FAST
    )
    pull(hub, crm, "accounts", _spec("salesforce", "accounts"))
    deals = sim.objects["Opportunity"]
    won = [d for d in deals if d["IsWon"]]
    lost = next(d for d in deals if not d["IsWon"])
    lost["StageName"] = "Closed Won"  # a stage label that says won; IsWon says otherwise
    projects = {p.id for p in firm.projects}

    report = hand_over_won_deals(hub.uow, hub.ports, crm)
    drain(hub)
    assert report.won == report.handed_over == len(won) and report.waiting == {}
    counts = _counts(hub)
    assert counts["OpportunityWon"] == counts["ProjectApproved"] == counts["SyncContract"] == len(won)
    with hub.uow() as uow:
        assert {p.id for p in uow.objects.all("project")} == projects  # every deal matched its register
        for deal in won:
            project = uow.xrefs.canonical_id("salesforce", "project", deal["Id"])
            assert uow.objects.get("project", project).contract_id == deal["Handoffs_Contract__c"]
        assert uow.xrefs.canonical_id("salesforce", "project", lost["Id"]) is None
        assert uow.deliveries.count_by_status() == {"confirmed": len(won)}
    assert sorted(erp.contracts) == sorted(d["Handoffs_Contract__c"] for d in won)

    assert hand_over_won_deals(hub.uow, hub.ports, crm).handed_over == 0  # nothing changed

    # the first deal is amended after the handoff: its first role's rate goes up from 1 June
    deal = won[0]
    item = next(i for i in sim.objects["OpportunityLineItem"] if i["OpportunityId"] == deal["Id"])
    item["UnitPrice"] = Decimal(str(item["UnitPrice"])) + 25
    deal["Rates_Effective__c"] = "2030-06-01"
    _touch(deal, "2030-05-20T09:00:00.000+0000")
    report = hand_over_won_deals(hub.uow, hub.ports, crm)
    drain(hub)
    assert report.handed_over == 1
    after = _counts(hub)
    assert after["ContractAmended"] == 1 and after["ProjectApproved"] == len(won)
    with hub.uow() as uow:
        assert {p.id for p in uow.objects.all("project")} == projects
        contract = uow.objects.get("contract", deal["Handoffs_Contract__c"])
    register = next(c for c in firm.contracts if c.id == contract.id)
    latest = contract.rate_card[-1]
    assert len(contract.rate_card) == len(register.rate_card) + 1
    assert str(latest.effective_from) == "2030-06-01"
    assert latest.rates[item["ProductCode"].lower()] == Decimal(str(item["UnitPrice"]))
    assert contract.installments == register.installments and contract.milestones == register.milestones


def test_a_new_won_deal_becomes_a_contract_and_a_project(
    any_db_hub: App, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    hub = any_db_hub
    crm_data = {k: [dict(r) for r in v] for k, v in seeds["salesforce"].items()}
    account = crm_data["Account"][0]
    crm_data["Opportunity"] = [
        {
            "Id": "006New000000001AAA",
            "AccountId": account["Id"],
            "Name": "Data platform rollout",
            "StageName": "Negotiation",
            "IsWon": True,
            "IsClosed": True,
            "CloseDate": "2030-03-01",
            "Amount": Decimal(90000),
            "CurrencyIsoCode": account["CurrencyIsoCode"],
            "Handoffs_Contract__c": None,  # not in the contract register: a deal won after adoption
            **dict.fromkeys(
                ("Billing_Model__c", "Contracting_Entity__c", "Service_Start__c", "Service_End__c"), None
            ),
            "Rates_Effective__c": None,
            "External_Id__c": "opp-new-1",
            "SystemModstamp": "2030-02-20T10:00:00.000+0000",
        }
    ]
    crm_data["OpportunityLineItem"] = [
        {
            "Id": "00kNew000000001AAA",
            "OpportunityId": "006New000000001AAA",
            "Name": "consultant",
            "ProductCode": "CONSULTANT",
            "Quantity": Decimal(300),
            "UnitPrice": Decimal(150),
            "TotalPrice": Decimal(45000),
            "SystemModstamp": "2030-02-20T10:00:00.000+0000",
        }
    ]
    sim = SalesforceSim(crm_data, seed=3)
    crm = SalesforceConnector(
        "salesforce", SalesforceConfig(serve(sim), SF_CLIENT_ID, Secret(SF_CLIENT_SECRET)), policy=FAST
    )
    pull(hub, crm, "accounts", _spec("salesforce", "accounts"))
    assert hand_over_won_deals(hub.uow, hub.ports, crm).handed_over == 1
    drain(hub)
    with hub.uow() as uow:
        project = uow.objects.get("project", "P-006New000000001AAA")
        contract = uow.objects.get("contract", "K-006New000000001AAA")
        customer = uow.xrefs.canonical_id("salesforce", "customer", account["Id"])
    assert project.contract_id == contract.id and project.name == "Data platform rollout"
    assert contract.customer_id == customer and contract.billing_model == "time_and_materials"
    assert contract.rate_card[0].rates == {"consultant": Decimal(150)}
    assert _counts(hub)["ProjectApproved"] == 1


def test_a_deal_whose_account_has_not_arrived_waits_for_the_next_hand_over(
    any_db_hub: App, seeds: Any, serve: Any
) -> None:
    sim = SalesforceSim(seeds["salesforce"], seed=3)
    crm = SalesforceConnector(
        "salesforce", SalesforceConfig(serve(sim), SF_CLIENT_ID, Secret(SF_CLIENT_SECRET)), policy=FAST
    )
    won = {d["Id"] for d in sim.objects["Opportunity"] if d["IsWon"]}
    early = hand_over_won_deals(any_db_hub.uow, any_db_hub.ports, crm)  # accounts not pulled yet
    assert early.handed_over == 0 and set(early.waiting) == won
    pull(any_db_hub, crm, "accounts", _spec("salesforce", "accounts"))
    later = hand_over_won_deals(any_db_hub.uow, any_db_hub.ports, crm)
    assert later.handed_over == len(won) and later.waiting == {}
