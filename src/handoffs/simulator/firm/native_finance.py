"""Native seed records for the HRIS, the expense tool and the three ERPs."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from handoffs.domain.journals import DEFAULT_ACCOUNTS
from handoffs.simulator.firm.model import Firm

__all__ = ["erp_seeds", "expense_seed", "workday_seed"]

ODOO_PRODUCT_ID = 1


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def workday_seed(firm: Firm) -> dict[str, list[dict[str, Any]]]:
    """The worker custom report: RaaS JSON renders every value as text."""
    companies = {le.id: le.name for le in firm.legal_entities}
    hired = datetime.combine(firm.size.start.replace(year=firm.size.start.year - 2), time(9), UTC)
    entries = [
        {
            "Employee_ID": f"{21000 + i}",
            "Legal_Name": r.name,
            "Job_Profile": r.role,
            "Cost_Rate": str(r.cost_rate.amount),
            "Currency": r.cost_rate.currency,
            "Supervisory_Organization": r.org_unit,
            "Company": companies[r.legal_entity_id],
            "Company_ID": r.legal_entity_id,
            "Cost_Center": r.cost_centre_id,
            "Scheduled_Weekly_Hours": str(r.weekly_capacity_hours),
            "Skills": [{"Descriptor": s} for s in r.skills],
            "Worker_Status": "Active",
            "Manager_ID": f"{21000 + int(firm.managers[r.id][4:])}",
            "Hire_Date": hired.date().isoformat(),
            "Last_Updated": _z(hired),
        }
        for i, r in enumerate(firm.resources, start=1)
    ]
    return {"Report_Entry": entries}


def expense_seed(firm: Firm) -> dict[str, list[dict[str, Any]]]:
    """Expense reports with their line items, grouped as the consultant filed them."""
    people = {r.id: r for r in firm.resources}
    homes = {le.id: le.currency for le in firm.legal_entities}
    reports: dict[str, dict[str, Any]] = {}
    for x in firm.expenses:
        info = firm.expense_info[x.id]
        person = people[x.resource_id]
        report = reports.setdefault(
            info.report_id,
            {
                "id": info.report_id,
                "title": f"Expenses week of {x.incurred_on.isoformat()}",
                "employee": {"id": person.id, "name": person.name, "email": f"{person.id}@firm.example"},
                "currency": homes[person.legal_entity_id],
                "submitted_at": _z(info.submitted_at),
                "line_items": [],
                "updated_at": _z(info.submitted_at),
            },
        )
        violations = (["over_limit"] if info.over_policy else []) + (
            [] if x.has_receipt else ["missing_receipt"]
        )
        report["line_items"].append(
            {
                "id": x.id,
                "date": x.incurred_on.isoformat(),
                "category": x.category,
                "merchant": info.merchant,
                "description": x.description,
                "amount": str(x.amount.amount),
                "currency": x.amount.currency,
                "policy_limit": str(info.policy_limit.amount),
                "receipt_attached": x.has_receipt,
                "reimbursable": x.reimbursable,
                "billable": x.billable,
                "project_code": x.project_id,
                "state": x.status.upper(),
                "policy_violations": violations,
                "decided_at": _z(info.decided_at) if info.decided_at else None,
            }
        )
        if info.decided_at:
            report["updated_at"] = max(report["updated_at"], _z(info.decided_at))
    for report in reports.values():
        states = {line["state"] for line in report["line_items"]}
        report["state"] = (
            "SUBMITTED" if "SUBMITTED" in states else "REJECTED" if states == {"REJECTED"} else "APPROVED"
        )
        report["total_lines"] = len(report["line_items"])
    return {"reports": [reports[k] for k in sorted(reports)]}


def erp_seeds(firm: Firm) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """What the NetSuite-like, Odoo-like and legacy ERPs hold before the hub writes to them."""
    netsuite: dict[str, list[dict[str, Any]]] = {
        "subsidiary": [
            {
                "id": le.erp_subsidiary,
                "name": le.name,
                "currency": {"refName": le.currency},
                "country": le.country,
            }
            for le in firm.legal_entities
        ],
        "account": [
            {
                "id": str(i),
                "acctNumber": a.number,
                "acctName": a.name,
                "subsidiary": {
                    "id": next(le.erp_subsidiary for le in firm.legal_entities if le.id == a.legal_entity_id)
                },
            }
            for i, a in enumerate(firm.gl_accounts, start=1)
        ],
        "serviceItem": [{"id": "10", "itemId": "Consulting services"}, {"id": "11", "itemId": "Expenses"}],
        # Internal ids differ from the hub's names: references are resolved by lookups.
        "currency": [
            {"id": str(i), "symbol": c, "name": c}
            for i, c in enumerate(
                sorted({c.id for c in firm.currencies} | {le.currency for le in firm.legal_entities}), start=1
            )
        ],
        "salestaxitem": [
            {"id": str(100 + i), "itemId": t.id, "rate": str(t.rate * 100)}
            for i, t in enumerate(firm.tax_codes, start=1)
        ],
    }
    odoo_currencies = sorted({c.id for c in firm.currencies} | {le.currency for le in firm.legal_entities})
    odoo_currency = {code: i for i, code in enumerate(odoo_currencies, start=1)}
    odoo_company = {le.id: i for i, le in enumerate(firm.legal_entities, start=1)}
    odoo: dict[str, list[dict[str, Any]]] = {
        "res.company": [
            {
                "id": odoo_company[le.id],
                "name": le.name,
                "currency_id": odoo_currency[le.currency],
                "company_registry": le.id,  # how the tests tell the hub's entity's company
            }
            for le in firm.legal_entities
        ],
        "res.currency": [{"id": i, "name": code, "active": True} for code, i in odoo_currency.items()],
        "hr.employee": [
            {"id": i, "name": r.name, "hourly_cost": str(r.cost_rate.amount), "barcode": r.id}
            for i, r in enumerate(firm.resources, start=1)
        ],
        "product.product": [
            {"id": ODOO_PRODUCT_ID, "name": "Consulting services", "default_code": "CONSULT"}
        ],
        "account.tax": [
            {
                "id": i,
                "name": t.name,
                "amount": str(t.rate * 100),
                "type_tax_use": "sale",
                "company_id": odoo_company.get(t.legal_entity_id, 1),
            }
            for i, t in enumerate(firm.tax_codes, start=1)
        ],
        "account.account": [
            {"id": i, "code": a.number, "name": a.name} for i, a in enumerate(firm.gl_accounts, start=1)
        ],
        "account.analytic.plan": [{"id": 1, "name": "Projects"}],
    }
    closes = {(c.legal_entity_id, c.period) for c in firm.close_calendar}
    chart = {(a.legal_entity_id, a.number): a.name for a in firm.gl_accounts}
    for le in firm.legal_entities:  # the ledger also holds the accounts the hub's chart defaults to
        for role, number in DEFAULT_ACCOUNTS.items():
            chart.setdefault((le.id, number), role.replace("_", " "))
    legacy: dict[str, list[dict[str, Any]]] = {
        "accounts": [{"company": c, "account": n, "name": name} for (c, n), name in sorted(chart.items())],
        "open_periods": [{"company": le, "period": period} for le, period in sorted(closes)],
    }
    return {"netsuite": netsuite, "odoo": odoo, "legacy_gl": legacy}
