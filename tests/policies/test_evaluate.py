"""The evaluator: one test per rule, each decision naming its rule and policy version."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from handoffs.domain.contracts import Contract, RateCardVersion
from handoffs.domain.money import Money
from handoffs.domain.parties import Customer, Resource
from handoffs.domain.reference import GlAccount, LegalEntity, TaxCode
from handoffs.domain.work import Assignment, Expense, Project, TimeEntry
from handoffs.policies import (
    ExpenseFacts,
    TimeFacts,
    approvers_of,
    evaluate_expense,
    evaluate_time,
    facts_context,
    load_policy_text,
)

POLICY = """\
policy: test
version: 4
effective_from: 2026-01-01
approvals:
  - {name: two-over-8h, applies_to: time, when: {hours_over: 8}, require: {approvers: 2}}
  - {name: two-over-2000, applies_to: time, when: {amount_over: "2000"}, require: {approvers: 2}}
  - {name: receipt-over-75, applies_to: expense, when: {amount_over: "75"}, require: {receipt: true}}
billable: {non_billable_tasks: [training], internal_projects: ["P-INT-*"]}
tax: {require_code: true, allowed_codes: [TX-A]}
gl:
  expense_accounts: {travel: "6100", meals: "9999"}
  require_subsidiary: true
  require_cost_centre: true
"""
DAY = date(2026, 1, 12)
ENTITY = LegalEntity(
    id="LE", name="E", country="US", currency="USD", erp_subsidiary="1", default_tax_code_id="TX-A"
)
CONTRACT = Contract(
    id="K",
    customer_id="C",
    legal_entity_id="LE",
    currency="USD",
    billing_model="time_and_materials",
    start_date=date(2026, 1, 1),
    rate_card=(
        RateCardVersion(
            version=1,
            effective_from=date(2026, 1, 1),
            rates={"consultant": Decimal(150), "partner": Decimal(300)},
        ),
    ),
)
PROJECT = Project(
    id="P-1",
    name="P",
    legal_entity_id="LE",
    start_date=date(2026, 1, 1),
    customer_id="C",
    contract_id="K",
    cost_centre_id="CC",
)
ASSIGNMENT = Assignment(
    id="A", project_id="P-1", resource_id="R", role="consultant", start_date=date(2026, 1, 1)
)
RESOURCE = Resource(
    id="R", name="R", legal_entity_id="LE", role="consultant", cost_rate=Money(Decimal(50), "USD")
)
TAXES = {
    "TX-A": TaxCode(id="TX-A", legal_entity_id="LE", name="A", rate=Decimal(0)),
    "TX-B": TaxCode(id="TX-B", legal_entity_id="LE", name="B", rate=Decimal("0.1")),
}
ENTRY = TimeEntry(
    id="T",
    resource_id="R",
    project_id="P-1",
    work_date=DAY,
    hours=Decimal(6),
    assignment_id="A",
    status="approved",
    approved_by="M-1",
)
EXPENSE = Expense(
    id="X",
    resource_id="R",
    project_id="P-1",
    incurred_on=DAY,
    category="travel",
    amount=Money(Decimal(80), "USD"),
    status="approved",
)


@pytest.fixture(scope="module")
def policy() -> Any:
    loaded, errors = load_policy_text(POLICY, "test.yaml")
    assert errors == []
    return loaded


def ctx(**kw: Any) -> Any:
    base: dict[str, Any] = dict(
        project=PROJECT,
        resource_id="R",
        day=DAY,
        assignments=(ASSIGNMENT,),
        resource=RESOURCE,
        entity=ENTITY,
        contract=CONTRACT,
        customer=Customer(id="C", name="C", legal_entity_id="LE", currency="USD"),
        tax_codes=TAXES,
        gl_accounts=(GlAccount(id="G", legal_entity_id="LE", number="6100", name="T", kind="expense"),),
    )
    return facts_context(**(base | kw))


def time(policy: Any, entry: TimeEntry = ENTRY, **kw: Any) -> tuple[str, str]:
    d = evaluate_time(policy, TimeFacts(entry, ctx(**kw)))
    assert d.policy_ref == ("test@v4" if policy else "none")
    return d.outcome, d.rule


def expense(policy: Any, item: Expense = EXPENSE, **kw: Any) -> tuple[str, str]:
    d = evaluate_expense(policy, ExpenseFacts(item, ctx(**kw)))
    return d.outcome, d.rule


def test_a_clean_entry_is_accepted(policy: Any) -> None:
    assert time(policy) == ("accept", "accepted")
    assert expense(policy) == ("accept", "accepted")


def test_project_must_be_active(policy: Any) -> None:
    held = replace(PROJECT, status="on_hold")
    assert time(policy, project=held) == ("reject", "project.active")
    assert expense(policy, project=held) == ("reject", "project.active")
    assert time(None, project=held) == ("reject", "project.active")  # structural, even without a policy


def test_resource_must_be_assigned_on_the_date(policy: Any) -> None:
    ended = replace(ASSIGNMENT, end_date=date(2026, 1, 10))
    assert time(policy, assignments=(ended,)) == ("reject", "resource.assigned")
    assert time(policy, assignments=()) == ("reject", "resource.assigned")
    assert expense(policy, assignments=(ended,)) == ("reject", "resource.assigned")


def test_nobody_approves_their_own_time(policy: Any) -> None:
    assert time(policy, replace(ENTRY, approved_by="R")) == ("reject", "approvals.self_approval")


def test_second_approver_above_an_hours_threshold(policy: Any) -> None:
    long = replace(ENTRY, hours=Decimal("8.5"))
    assert time(policy, long) == ("reject", "approvals.two-over-8h")
    assert time(policy, replace(long, approved_by="M-1, M-2")) == ("accept", "accepted")
    assert time(policy, replace(ENTRY, hours=Decimal(8))) == ("accept", "accepted")  # above, not at


def test_second_approver_above_an_amount_threshold(policy: Any) -> None:
    partner = replace(ENTRY, role="partner", hours=Decimal(7))  # 7 x 300 = 2100
    assert time(policy, partner) == ("reject", "approvals.two-over-2000")
    assert time(policy, replace(partner, approved_by="M-1,M-2")) == ("accept", "accepted")


def test_receipt_above_an_expense_threshold(policy: Any) -> None:
    assert expense(policy, replace(EXPENSE, has_receipt=False)) == ("reject", "approvals.receipt-over-75")
    small = replace(EXPENSE, amount=Money(Decimal(70), "USD"), has_receipt=False)
    assert expense(policy, small) == ("accept", "accepted")


def test_billable_classification(policy: Any) -> None:
    assert time(policy, replace(ENTRY, task="training")) == ("not_billable", "billable.non_billable_task")
    internal = replace(PROJECT, id="P-INT-7")
    entry = replace(ENTRY, project_id="P-INT-7")
    assignment = replace(ASSIGNMENT, project_id="P-INT-7")
    assert time(policy, entry, project=internal, assignments=(assignment,)) == (
        "not_billable",
        "billable.internal_project",
    )


def test_tax_treatment(policy: Any) -> None:
    no_default = replace(ENTITY, default_tax_code_id=None)
    assert time(policy, entity=no_default) == ("reject", "tax.code_required")
    assert time(policy, contract=replace(CONTRACT, tax_code_id="TX-B")) == ("reject", "tax.code_allowed")
    assert time(policy, contract=replace(CONTRACT, tax_code_id="TX-NOPE")) == ("reject", "tax.code_valid")


def test_gl_coding(policy: Any) -> None:
    assert time(policy, entity=replace(ENTITY, erp_subsidiary=None)) == ("reject", "gl.subsidiary")
    assert time(policy, project=replace(PROJECT, cost_centre_id=None)) == ("reject", "gl.cost_centre")
    assert expense(policy, replace(EXPENSE, category="gifts")) == ("reject", "gl.expense_account")
    assert expense(policy, replace(EXPENSE, category="meals")) == (
        "reject",
        "gl.expense_account",
    )  # not in chart


def test_approval_chain_parsing() -> None:
    assert approvers_of("M-1, M-2;M-1") == ("M-1", "M-2")
    assert approvers_of(None) == ()
