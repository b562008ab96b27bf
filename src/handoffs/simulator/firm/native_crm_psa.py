"""Native seed records for the CRM (Salesforce-like) and time tool (Harvest-like).

Records hold ``Decimal`` for numbers the real API sends as JSON numbers; the seed files
store them as strings and the simulated APIs render them as numbers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from handoffs.domain.errors import NoEffectiveRate
from handoffs.simulator.firm.model import Firm

__all__ = ["crm_seed", "harvest_ids", "harvest_seed", "sf_id", "sf_time"]

HARVEST_USER_BASE = 1_000_000
HARVEST_CLIENT_BASE = 5_000_000
HARVEST_PROJECT_BASE = 20_000_000
HARVEST_ENTRY_BASE = 2_000_000_000


def sf_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce-style record id: key prefix, then a stable number."""
    return f"{prefix}Sim{n:09d}AAA"


def sf_time(moment: datetime) -> str:
    """Salesforce's timestamp format: ``2025-03-04T10:11:12.000+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _midday(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def crm_seed(firm: Firm) -> dict[str, list[dict[str, Any]]]:
    """Accounts, Opportunities and OpportunityLineItems as the CRM stores them."""
    customers = {c.id: (i + 1, c) for i, c in enumerate(firm.customers)}
    accounts = []
    for n, c in customers.values():
        stamp = sf_time(_midday(firm.size.start.replace(year=firm.size.start.year - 1)))
        accounts.append(
            {
                "Id": sf_id("001", n),
                "Name": c.name,
                "External_Id__c": c.id,
                "Type": "Customer",
                "BillingCountry": c.country,
                "CurrencyIsoCode": c.currency,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
            }
        )
    opportunities, lines = [], []
    contracts = {c.id: c for c in firm.contracts}
    for i, o in enumerate(firm.opportunities, start=1):
        account_n, customer = customers[o.customer_id]
        stamp = sf_time(o.modified_at)
        contract = contracts.get(o.contract_id or "")
        opportunities.append(
            {
                "Id": sf_id("006", i),
                "AccountId": sf_id("001", account_n),
                "Name": o.name,
                "StageName": o.stage,
                "IsWon": o.is_won,
                "IsClosed": o.is_closed,
                "Probability": o.probability,
                "ForecastCategory": "Closed" if o.is_won else "Omitted" if o.is_closed else "Pipeline",
                "CloseDate": o.close_date.isoformat(),
                "Amount": o.amount.amount,
                "CurrencyIsoCode": o.amount.currency,
                "Handoffs_Contract__c": o.contract_id,
                # the commercial terms the deal was sold on (custom fields of the firm's org)
                "Billing_Model__c": contract.billing_model if contract else "time_and_materials",
                "Contracting_Entity__c": contract.legal_entity_id if contract else customer.legal_entity_id,
                "Service_Start__c": (contract.start_date if contract else o.close_date).isoformat(),
                "Service_End__c": contract.end_date.isoformat() if contract and contract.end_date else None,
                "Rates_Effective__c": None,  # set when an amendment changes the rates from a date
                "External_Id__c": o.id,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
            }
        )
        for k, line in enumerate(o.lines, start=1):
            hours, rate = Decimal(line["hours"]), Decimal(line["rate"])
            lines.append(
                {
                    "Id": sf_id("00k", i * 100 + k),
                    "OpportunityId": sf_id("006", i),
                    "Name": f"{o.name} - {line['role']}",
                    "ProductCode": line["role"].upper(),
                    "Quantity": hours,
                    "UnitPrice": rate,
                    "TotalPrice": hours * rate,
                    "IsDeleted": False,
                    "CreatedDate": stamp,
                    "LastModifiedDate": stamp,
                    "SystemModstamp": stamp,
                }
            )
    return {"Account": accounts, "Opportunity": opportunities, "OpportunityLineItem": lines}


def harvest_ids(firm: Firm) -> dict[str, dict[str, int]]:
    """Harvest's integer ids for the firm's resources, customers, projects and entries."""
    return {
        "resource": {r.id: HARVEST_USER_BASE + i for i, r in enumerate(firm.resources, start=1)},
        "customer": {c.id: HARVEST_CLIENT_BASE + i for i, c in enumerate(firm.customers, start=1)},
        "project": {p.id: HARVEST_PROJECT_BASE + i for i, p in enumerate(firm.projects, start=1)},
        "time_entry": {e.id: HARVEST_ENTRY_BASE + i for i, e in enumerate(firm.time_entries, start=1)},
    }


def harvest_seed(firm: Firm) -> dict[str, list[dict[str, Any]]]:
    """Users, clients, projects and time entries as the time tool stores them."""
    ids = harvest_ids(firm)
    start = _midday(firm.size.start.replace(year=firm.size.start.year - 1)).isoformat().replace("+00:00", "Z")
    users = [
        {
            "id": ids["resource"][r.id],
            "first_name": r.name.split()[0],
            "last_name": r.name.split()[-1],
            "email": f"{r.id}@firm.example",
            "is_active": True,
            "is_contractor": False,
            "weekly_capacity": int(r.weekly_capacity_hours * 3600),
            "cost_rate": r.cost_rate.amount,
            "roles": [r.role],
            "employee_id": r.id,
            "created_at": start,
            "updated_at": start,
        }
        for r in firm.resources
    ]
    clients = [
        {
            "id": ids["customer"][c.id],
            "name": c.name,
            "currency": c.currency,
            "is_active": True,
            "created_at": start,
            "updated_at": start,
        }
        for c in firm.customers
    ]
    client_of = {c.id: c for c in firm.customers}
    contracts = {c.id: c for c in firm.contracts}
    projects = []
    for p in firm.projects:
        contract = contracts.get(p.contract_id or "")
        client = client_of.get(p.customer_id or "")
        projects.append(
            {
                "id": ids["project"][p.id],
                "name": p.name,
                "code": p.id,
                "is_active": p.status == "active",
                "is_billable": p.billable,
                "is_fixed_fee": bool(contract and contract.billing_model != "time_and_materials"),
                "bill_by": "People" if p.billable else "none",
                "fee": contract.fixed_fee.amount if contract and contract.fixed_fee else None,
                "budget": None,
                "starts_on": p.start_date.isoformat(),
                "ends_on": p.end_date.isoformat() if p.end_date else None,
                "client": {"id": ids["customer"][client.id], "name": client.name, "currency": client.currency}
                if client
                else None,
                "created_at": start,
                "updated_at": start,
            }
        )
    return {"users": users, "clients": clients, "projects": projects, "time_entries": _entries(firm, ids)}


def _entries(firm: Firm, ids: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    people = {r.id: r for r in firm.resources}
    projects = {p.id: p for p in firm.projects}
    contracts = {c.id: c for c in firm.contracts}
    clients = {c.id: c for c in firm.customers}
    history: dict[str, list[datetime]] = {}
    for ev in firm.time_events:
        history.setdefault(ev.entry_id, []).append(ev.at)
    tasks = {name: i for i, name in enumerate(sorted({x.task or "" for x in firm.time_entries}), start=1)}
    rows = []
    for e in firm.time_entries:
        person, project = people[e.resource_id], projects[e.project_id]
        rate = None
        contract = contracts.get(project.contract_id or "")
        if contract is not None and e.billable:
            try:
                rate = contract.rate_for(e.role or person.role, e.work_date)[1].amount
            except NoEffectiveRate:
                rate = None
        client = clients.get(project.customer_id or "")
        stamps = history[e.id]
        approved = e.status == "approved"
        rows.append(
            {
                "id": ids["time_entry"][e.id],
                "spent_date": e.work_date.isoformat(),
                "hours": e.hours,
                "hours_without_timer": e.hours,
                "rounded_hours": e.hours,
                "notes": e.notes,
                "is_locked": approved,
                "locked_reason": "Item Approved and Locked for this Time Period" if approved else None,
                "is_closed": approved,
                "is_billed": False,
                "is_running": False,
                "timer_started_at": None,
                "started_time": None,
                "ended_time": None,
                "billable": e.billable,
                "budgeted": e.billable,
                "billable_rate": rate,
                "cost_rate": person.cost_rate.amount,
                "created_at": _z(min(stamps)),
                "updated_at": _z(max(stamps)),
                "user": {"id": ids["resource"][person.id], "name": person.name},
                "client": {"id": ids["customer"][client.id], "name": client.name, "currency": client.currency}
                if client
                else None,
                "project": {"id": ids["project"][project.id], "name": project.name, "code": project.id},
                "task": {"id": tasks[e.task or ""], "name": e.task},
                "user_assignment": None,
                "task_assignment": None,
                "invoice": None,
                "external_reference": None,
            }
        )
    return rows


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
