"""Billing readiness: one test per reason, and the period report over a real store."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from typer.testing import CliRunner

from handoffs.bootstrap import App
from handoffs.cli.main import app
from handoffs.domain.contracts import Contract, Installment, Milestone, RateCardVersion
from handoffs.domain.money import Money
from handoffs.domain.work import Project
from handoffs.flows.readiness import assess, period_readiness
from handoffs.store.repositories.readiness import OpenException, ReadinessReads, TimeRow
from tests.policies.support import book, entry, firm
from tests.support.flow import drain, load

POLICY = book((1, "7", "2026-01-01")).policies[0]
TM = Contract(
    id="K",
    customer_id="C",
    legal_entity_id="LE",
    currency="USD",
    billing_model="time_and_materials",
    start_date=date(2026, 1, 1),
    rate_card=(RateCardVersion(version=1, effective_from=date(2026, 1, 1), rates={"c": Decimal(100)}),),
)
PROJECT = Project(
    id="P", name="P", legal_entity_id="LE", start_date=date(2026, 1, 1), customer_id="C", contract_id="K"
)
OK = TimeRow("T-1", "approved", True, "priced", Decimal(5))
USD = Money(Decimal(100), "USD")


def codes(
    project: Project = PROJECT,
    contract: Contract | None = TM,
    time: Any = (OK,),
    exceptions: Any = (),
    invoiced: bool = False,
    policy: Any = POLICY,
    configured: bool = True,
) -> tuple[str, list[str]]:
    r = assess(project, contract, "2026-01", list(time), list(exceptions), invoiced, policy, configured)
    assert all(reason.detail for reason in r.reasons)
    return r.status, [reason.code for reason in r.reasons]


def test_ready_and_invoiced() -> None:
    assert codes() == ("ready", [])
    assert codes(time=(replace(OK, billing_state="billed"),), invoiced=True) == ("invoiced", [])


def test_every_reason_blocks() -> None:
    assert codes(project=replace(PROJECT, status="on_hold"))[1] == ["project_not_active"]
    assert codes(policy=None)[1] == ["no_policy"]
    assert codes(contract=None)[1] == ["no_contract"]
    assert codes(contract=replace(TM, end_date=date(2025, 12, 31), start_date=date(2025, 1, 1)))[1] == [
        "contract_not_in_force"
    ]
    assert codes(time=())[1] == ["no_approved_effort"]
    assert codes(time=(OK, replace(OK, id="T-2", status="submitted")))[1] == ["unapproved_time"]
    assert codes(time=(OK, replace(OK, id="T-2", billing_state="unpriced")))[1] == ["unpriced_time"]
    assert codes(time=(OK, replace(OK, id="T-2", billing_state="rejected")))[1] == ["rejected_time"]
    assert codes(exceptions=(OpenException(1, "validation", "approvals.x", "r"),))[1] == ["open_exceptions"]


def test_milestones_must_be_accepted_and_installments_due() -> None:
    milestones = Contract(
        id="K",
        customer_id="C",
        legal_entity_id="LE",
        currency="USD",
        billing_model="milestone",
        start_date=date(2026, 1, 1),
        milestones=(Milestone(id="M-1", name="m", amount=USD),),
    )
    assert codes(contract=milestones, time=())[1] == ["milestone_not_accepted"]
    accepted = replace(
        milestones, milestones=(Milestone(id="M-1", name="m", amount=USD, accepted_on=date(2026, 1, 9)),)
    )
    assert codes(contract=accepted, time=()) == ("ready", [])
    fee = Contract(
        id="K",
        customer_id="C",
        legal_entity_id="LE",
        currency="USD",
        billing_model="fixed_fee",
        start_date=date(2026, 1, 1),
        fixed_fee=USD,
        installments=(Installment(id="I-1", due_date=date(2026, 2, 1), amount=USD),),
    )
    assert codes(contract=fee, time=())[1] == ["no_installment_due"]


def test_every_reason_is_reported_at_once() -> None:
    status, found = codes(project=replace(PROJECT, status="closed"), time=(replace(OK, status="draft"),))
    assert status == "blocked" and found == ["project_not_active", "no_approved_effort", "unapproved_time"]


def test_the_period_report_reads_the_store(policy_hub: App, database_url: str) -> None:
    load(policy_hub, [*firm(), entry("T-ok"), entry("T-long", "7.5"), entry("T-wait", status="submitted")])
    drain(policy_hub)
    with policy_hub.uow() as uow:
        report = {
            r.project_id: r
            for r in period_readiness(uow, ReadinessReads(uow.connection), policy_hub.ports, "2026-01")
        }
    assert report["P-1"].status == "blocked" and report["P-1"].policy == "test@v1"
    assert [r.code for r in report["P-1"].reasons] == ["unapproved_time", "rejected_time", "open_exceptions"]
    assert [r.code for r in report["P-2"].reasons] == ["project_not_active", "no_approved_effort"]
    result = CliRunner().invoke(
        app, ["readiness", "--period", "2026-01", "--json", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    assert '"blocked": 2' in result.output


def test_only_exceptions_of_the_period_or_of_no_period_block_it(policy_hub: App) -> None:
    # T-feb falls after every assignment ends: rejected, a February exception on P-1
    load(policy_hub, [*firm(), entry("T-ok"), entry("T-feb", day="2026-02-10")])
    drain(policy_hub)

    def report(period: str) -> dict[str, list[str]]:
        with policy_hub.uow() as uow:
            found = period_readiness(uow, ReadinessReads(uow.connection), policy_hub.ports, period)
        return {r.project_id: [x.code for x in r.reasons] for r in found}

    assert "open_exceptions" not in report("2026-01")["P-1"]
    assert "open_exceptions" in report("2026-02")["P-1"]
    with policy_hub.uow() as uow:  # a problem with the project itself holds every period back
        uow.exceptions.add(
            category="mapping",
            source="test",
            reason="contract terms unreadable",
            raw="{}",
            detail={"project_id": "P-1"},
        )
        uow.commit()
    assert "open_exceptions" in report("2026-01")["P-1"]
    with policy_hub.uow() as uow:
        by_period = {p: ReadinessReads(uow.connection).open_exceptions(p) for p in ("2026-01", "2026-02")}
    assert [e.category for e in by_period["2026-01"]["P-1"]] == ["mapping"]
    assert sorted(e.category for e in by_period["2026-02"]["P-1"]) == ["mapping", "validation"]
