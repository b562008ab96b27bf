"""A small firm for policy tests, as canonical JSON lines, and hubs that run under policies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from handoffs.bootstrap import App, build
from handoffs.policies import PolicyBook, load_book, load_policy_text
from handoffs.settings import Settings

POLICY = """\
policy: test
version: {version}
effective_from: {since}
scope: {{legal_entities: [LE-US]}}
approvals:
  - {{name: second-approver, applies_to: time, when: {{hours_over: {hours}}}, require: {{approvers: 2}}}}
  - {{name: receipt-over-75, applies_to: expense, when: {{amount_over: "75"}}, require: {{receipt: true}}}}
billable: {{non_billable_tasks: [training]}}
tax: {{require_code: true}}
gl:
  expense_accounts: {{travel: "6100"}}
  require_subsidiary: true
ownership:
  objects:
    time_entry: {{owner: timesheets}}
    customer: {{owner: crm, fields: {{email: erp}}}}
"""


def policy_text(version: int = 1, hours: str = "7", since: str = "2026-01-01") -> str:
    return POLICY.format(version=version, hours=hours, since=since)


def book(*versions: tuple[int, str, str]) -> PolicyBook:
    policies = []
    for version, hours, since in versions:
        policy, errors = load_policy_text(policy_text(version, hours, since), f"test-v{version}.yaml")
        assert errors == [] and policy is not None
        policies.append(policy)
    return PolicyBook.of(policies)


def example_book() -> PolicyBook:
    loaded, errors = load_book([Path(__file__).resolve().parents[2] / "policies"])
    assert errors == []
    return loaded


def hub_on(database_url: str, policies: PolicyBook | None) -> App:
    settings = Settings(
        database_url=database_url, erp="memory", batch_size=200, backoff_base=0.01, max_attempts=4
    )
    return build(settings, policies=policies)


def line(type_: str, **fields: Any) -> str:
    return orjson.dumps({"type": type_, **fields}).decode()


def firm() -> list[str]:
    """One T&M project (P-1, active), one on hold (P-2), two consultants staffed on P-1 in January."""
    rates = [{"version": 1, "effective_from": "2026-01-01", "rates": {"consultant": "100.00"}}]
    lines = [
        line(
            "legal_entity",
            id="LE-US",
            name="US",
            country="US",
            currency="USD",
            erp_subsidiary="1",
            default_tax_code_id="TX-0",
        ),
        line("tax_code", id="TX-0", legal_entity_id="LE-US", name="none", rate="0"),
        line("customer", id="C-1", name="C", legal_entity_id="LE-US", currency="USD", source_system="crm"),
    ]
    for n, status in ((1, "active"), (2, "on_hold")):
        lines += [
            line(
                "contract",
                id=f"K-{n}",
                customer_id="C-1",
                legal_entity_id="LE-US",
                currency="USD",
                billing_model="time_and_materials",
                start_date="2026-01-01",
                rate_card=rates,
            ),
            line(
                "project",
                id=f"P-{n}",
                name=f"P{n}",
                legal_entity_id="LE-US",
                start_date="2026-01-01",
                customer_id="C-1",
                contract_id=f"K-{n}",
                status=status,
            ),
        ]
    for r in ("R-1", "R-2"):
        lines.append(
            line(
                "resource",
                id=r,
                name=r,
                legal_entity_id="LE-US",
                role="consultant",
                cost_rate={"amount": "50", "currency": "USD"},
            )
        )
        for p in ("P-1", "P-2"):
            lines.append(
                line(
                    "assignment",
                    id=f"A-{r}-{p}",
                    project_id=p,
                    resource_id=r,
                    role="consultant",
                    start_date="2026-01-01",
                    end_date="2026-01-31",
                )
            )
    return lines


def entry(
    id_: str,
    hours: str = "6",
    *,
    day: str = "2026-01-12",
    resource: str = "R-1",
    project: str = "P-1",
    approved_by: str = "M-1",
    version: int = 1,
    **extra: Any,
) -> str:
    fields = dict(
        id=id_,
        resource_id=resource,
        project_id=project,
        work_date=day,
        hours=hours,
        status="approved",
        approved_by=approved_by,
        approved_at="2026-01-31T18:00:00+00:00",
        source_system="timesheets",
        source_version=version,
    )
    return line("time_entry", **(fields | extra))


def expense(id_: str, amount: str = "80.00", **extra: Any) -> str:
    fields = dict(
        id=id_,
        resource_id="R-1",
        project_id="P-1",
        incurred_on="2026-01-12",
        category="travel",
        amount={"amount": amount, "currency": "USD"},
        status="approved",
        source_system="expenses",
        source_version=1,
    )
    return line("expense", **(fields | extra))


def states(hub: App) -> dict[str, str]:
    with hub.uow() as uow:
        rows = uow.connection.exec_driver_sql("SELECT id, billing_state FROM time_entries").all()
    return {r[0]: r[1] for r in rows}


def open_exceptions(hub: App, category: str | None = None) -> list[Any]:
    with hub.uow() as uow:
        return [e for e in uow.exceptions.list(state="open", category=category)]


Factory = Callable[[], Iterator[App]]
