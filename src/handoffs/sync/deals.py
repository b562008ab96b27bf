"""Won deals from the CRM go through the opportunity-to-project flow.

    CRM opportunities with IsWon = true, changed since the cursor - overlap
      + their line items (role, rate) + the account as the hub knows it (pulled before)
      ─► terms: customer, contract (rate card from the line items), project shell
      ─► flows.opportunity_to_project.win_opportunity ─► OpportunityWon

``IsWon`` decides, never the stage label. The message id is derived from the deal and its
terms, so handing over an unchanged deal again publishes nothing new, and changed terms
after the handoff become a ``ContractAmended``. A deal whose account has not reached the hub
waits for the next hand-over (the cursor stays before it).

Custom fields read when the CRM has them: ``Handoffs_Contract__c`` (the contract a deal
became, for deals registered before adoption), ``Billing_Model__c``,
``Contracting_Entity__c``, ``Service_Start__c``, ``Service_End__c``, ``Rates_Effective__c``
(the date an amendment's rates apply from); otherwise a time-and-materials contract of the
account's legal entity starting on ``CloseDate``. The line items' rates (``ProductCode`` as
the role, ``UnitPrice``) are the rate card.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from handoffs.flows.opportunity_to_project import win_opportunity
from handoffs.flows.ports import Ports
from handoffs.store.repositories.cursors import CursorRepository, StoredCursor
from handoffs.sync.pull import parse_version

__all__ = ["HandoverReport", "deal_terms", "hand_over_won_deals"]

RESOURCE = "won_deals"


@dataclass(slots=True)
class HandoverReport:
    system: str
    won: int = 0  # won deals read
    handed_over: int = 0  # OpportunityWon published (new deals, or changed terms)
    waiting: dict[str, str] = field(default_factory=dict)  # opportunity id -> why it waits

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "won": self.won,
            "handed_over": self.handed_over,
            "waiting": dict(sorted(self.waiting.items())),
        }


def deal_terms(deal: dict[str, Any], customer: Any, items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The commercial terms of a won deal, as canonical JSON for ``win_opportunity``."""
    start = str(deal.get("Service_Start__c") or deal["CloseDate"])
    rates_from = str(deal.get("Rates_Effective__c") or start)
    rates = {str(i["ProductCode"]).lower(): str(i["UnitPrice"]) for i in items if i.get("ProductCode")}
    contract: dict[str, Any] = {
        "legal_entity_id": deal.get("Contracting_Entity__c") or customer.legal_entity_id,
        "currency": deal.get("CurrencyIsoCode") or customer.currency,
        "billing_model": deal.get("Billing_Model__c") or "time_and_materials",
        "start_date": start,
        "end_date": deal.get("Service_End__c"),
    }
    if rates:
        contract["rate_card"] = [{"version": 1, "effective_from": rates_from, "rates": rates}]
    if deal.get("Handoffs_Contract__c"):
        contract["id"] = str(deal["Handoffs_Contract__c"])
    return {
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "legal_entity_id": customer.legal_entity_id,
            "currency": customer.currency,
        },
        "contract": contract,
        "project": {"name": str(deal.get("Name") or deal["Id"])},
    }


def hand_over_won_deals(
    uow_factory: Callable[[], Any],
    ports: Ports,
    connector: Any,
    *,
    overlap: timedelta = timedelta(minutes=10),
) -> HandoverReport:
    """Read the CRM's won deals changed since the last hand-over and publish ``OpportunityWon``."""
    system = connector.system
    report = HandoverReport(system)
    with uow_factory() as uow:
        stored = CursorRepository(uow.connection, uow.now).get(system, RESOURCE)
        published = uow.messages.count_by_type().get("OpportunityWon", 0)
    start = parse_version(stored.position)
    deals = [d for page in connector.fetch("opportunities", start - overlap if start else None) for d in page]
    deals = [d for d in deals if d.get("IsWon") is True]
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if deals:
        for page in connector.fetch("line_items", None):
            for item in page:
                items[str(item["OpportunityId"])].append(item)
    report.won = len(deals)
    newest, held_back = start, None
    with uow_factory() as uow:
        for deal in deals:
            stamp = parse_version(deal.get("SystemModstamp"))
            customer_id = uow.xrefs.canonical_id(system, "customer", str(deal.get("AccountId")))
            customer = uow.objects.get("customer", customer_id) if customer_id else None
            if customer is None:
                report.waiting[str(deal["Id"])] = f"account {deal.get('AccountId')} has not reached the hub"
                held_back = min(held_back, stamp) if held_back and stamp else held_back or stamp
                continue
            win_opportunity(
                uow, ports, deal, system, terms=deal_terms(deal, customer, items[str(deal["Id"])])
            )
            if stamp and (newest is None or stamp > newest):
                newest = stamp
        position = held_back or newest
        CursorRepository(uow.connection, uow.now).save(
            system,
            RESOURCE,
            StoredCursor(position.astimezone(UTC).isoformat() if position else None, {}, stored.pulls + 1),
        )
        uow.commit()
    with uow_factory() as uow:
        report.handed_over = uow.messages.count_by_type().get("OpportunityWon", 0) - published
    return report
