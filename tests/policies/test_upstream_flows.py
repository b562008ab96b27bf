"""Opportunity to project and staffing, end to end on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest

from handoffs.bootstrap import App, build
from handoffs.connectors.fake.erp import InMemoryErp
from handoffs.domain.messages import AssignConsultant
from handoffs.flows.opportunity_to_project import win_opportunity
from handoffs.flows.ports import ExternalRef
from handoffs.settings import Settings
from tests.policies.support import firm, line, open_exceptions
from tests.support.flow import drain, load


class ContractErp(InMemoryErp):
    """The in-memory ERP, also accepting contract metadata."""

    def __init__(self) -> None:
        super().__init__()
        self.contracts: dict[str, dict[str, Any]] = {}

    def push_contract(self, metadata: dict[str, Any], idempotency_key: str) -> ExternalRef:
        self.contracts[idempotency_key] = metadata
        return ExternalRef("erp", f"ERP-{metadata['id']}")


@pytest.fixture
def crm_hub(database_url: str) -> Iterator[App]:
    settings = Settings(database_url=database_url, erp="none", backoff_base=0.01, max_attempts=2)
    app = build(settings, erps={"erp": ContractErp()})
    yield app
    app.close()


TERMS = {
    "customer": {"name": "Acme Ltd", "legal_entity_id": "LE-US", "currency": "USD"},
    "contract": {
        "legal_entity_id": "LE-US",
        "currency": "USD",
        "billing_model": "time_and_materials",
        "start_date": "2026-03-01",
        "end_date": "2026-06-30",
        "rate_card": [{"version": 1, "effective_from": "2026-03-01", "rates": {"consultant": "150.00"}}],
    },
    "project": {"name": "Acme rollout"},
}


def _win(hub: App, deal: dict[str, Any], terms: dict[str, Any]) -> bool:
    with hub.uow() as uow:
        published = win_opportunity(uow, hub.ports, deal, "crm", terms)
        uow.commit()
    return published


def _messages(hub: App) -> dict[str, int]:
    with hub.uow() as uow:
        return dict(uow.messages.count_by_type())


def test_a_won_deal_becomes_one_project_and_an_amendment_never_a_second(crm_hub: App) -> None:
    load(crm_hub, firm())  # C-1 "C" exists; Acme is new
    assert not _win(
        crm_hub, {"Id": "006A", "IsWon": False, "StageName": "Closed Won"}, TERMS
    )  # label ignored
    assert _win(crm_hub, {"Id": "006A", "IsWon": True, "StageName": "Negotiation"}, TERMS)
    drain(crm_hub)
    with crm_hub.uow() as uow:
        project = uow.objects.get("project", "P-006A")
        contract = uow.objects.get("contract", "K-006A")
        customer = uow.objects.get("customer", "C-006A")
        assert (
            project.contract_id == "K-006A" and project.customer_id == "C-006A" and project.status == "active"
        )
        assert (
            contract.rate_card[0].rates == {"consultant": Decimal("150.00")} and customer.name == "Acme Ltd"
        )
        assert uow.xrefs.for_object("contract", "K-006A") == {"crm": "006A", "erp": "ERP-K-006A"}
    erp = crm_hub.ports.erps["erp"]
    assert [m["id"] for m in erp.contracts.values()] == ["K-006A"]  # type: ignore[attr-defined]
    assert _messages(crm_hub)["ProjectApproved"] == 1
    amended = orjson.loads(orjson.dumps(TERMS))
    amended["contract"]["rate_card"].append(
        {"version": 2, "effective_from": "2026-04-01", "rates": {"consultant": "160.00"}}
    )
    assert _win(crm_hub, {"Id": "006A", "IsWon": True}, amended)
    drain(crm_hub)
    counts = _messages(crm_hub)
    assert counts["ProjectApproved"] == 1 and counts["ContractAmended"] == 1 and counts["OpportunityWon"] == 2
    with crm_hub.uow() as uow:
        assert len([p for p in uow.objects.all("project") if p.contract_id == "K-006A"]) == 1
        assert len(uow.objects.get("contract", "K-006A").rate_card) == 2


def test_a_won_deal_matches_an_existing_customer_by_name(crm_hub: App) -> None:
    load(crm_hub, firm())
    terms = TERMS | {"customer": {"name": "c", "legal_entity_id": "LE-US", "currency": "USD"}}
    _win(crm_hub, {"Id": "006B", "IsWon": True}, terms)
    drain(crm_hub)
    with crm_hub.uow() as uow:
        assert uow.objects.get("project", "P-006B").customer_id == "C-1"
        assert uow.objects.get("customer", "C-006B") is None


def _request(id_: str, hours: str = "20", role: str = "consultant") -> str:
    return line(
        "resource_request",
        id=id_,
        project_id="P-1",
        role=role,
        start_date="2026-01-01",
        end_date="2026-01-31",
        hours_per_week=hours,
    )


def _assign(hub: App, request: str, resource: str, hours_ago: int = 30) -> None:
    now = datetime(2026, 1, 3, 12, tzinfo=UTC)
    with hub.uow() as uow:
        uow.publish(
            AssignConsultant(
                message_id=f"assign-{request}-{resource}",
                occurred_at=now,
                correlation_id="project:P-1",
                request_id=request,
                resource_id=resource,
                requested_at=now - timedelta(hours=hours_ago),
            )
        )
        uow.commit()


def test_staffing_assigns_an_available_consultant_or_names_the_rule(crm_hub: App) -> None:
    extra = [
        line(
            "resource",
            id="R-3",
            name="R3",
            legal_entity_id="LE-US",
            role="consultant",
            cost_rate={"amount": "50", "currency": "USD"},
            weekly_capacity_hours="40",
        ),
        line(
            "resource",
            id="R-GB",
            name="GB",
            legal_entity_id="LE-GB",
            role="consultant",
            cost_rate={"amount": "50", "currency": "USD"},
        ),
        line(
            "resource",
            id="R-free",
            name="Free",
            legal_entity_id="LE-US",
            role="consultant",
            cost_rate={"amount": "0", "currency": "USD"},
        ),
        _request("RQ-ok"),
        _request("RQ-busy", "30"),
        _request("RQ-role", role="partner"),
        _request("RQ-gb"),
        _request("RQ-rate"),
        _request("RQ-x"),
    ]
    load(crm_hub, [*firm(), *extra])  # R-1 already works 40 h/week on P-1 and P-2 in January
    for request, resource in (
        ("RQ-ok", "R-3"),
        ("RQ-busy", "R-1"),
        ("RQ-role", "R-3"),
        ("RQ-gb", "R-GB"),
        ("RQ-rate", "R-free"),
        ("RQ-ok", "R-nobody"),
        ("RQ-x", "R-nobody"),
    ):
        _assign(crm_hub, request, resource)
    drain(crm_hub)
    with crm_hub.uow() as uow:
        assignment = uow.objects.get("assignment", "A-RQ-ok-R-3")
        assert assignment.hours_per_week == Decimal(20) and assignment.request_id == "RQ-ok"
        assert uow.objects.get("resource_request", "RQ-ok").status == "filled"
        events = uow.connection.exec_driver_sql(
            "SELECT payload FROM messages WHERE type = 'ConsultantAssigned'"
        ).all()
    assert [orjson.loads(p[0])["time_to_staff_hours"] for p in events] == ["30.00"]
    rules = {
        e.object_id + "/" + e.detail["resource_id"]: e.detail["rule"]
        for e in open_exceptions(crm_hub, "staffing")
    }
    assert rules == {
        "RQ-busy/R-1": "staffing.availability",
        "RQ-role/R-3": "staffing.role",
        "RQ-gb/R-GB": "staffing.legal_entity",
        "RQ-rate/R-free": "staffing.cost_rate",
        "RQ-ok/R-nobody": "staffing.request_open",
        "RQ-x/R-nobody": "staffing.resource_known",
    }
