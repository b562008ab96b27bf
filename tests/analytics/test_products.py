"""Each data product on a small firm whose numbers are worked out by hand from its records.

The firm: two T&M projects (40 approved entries in January 2026, 10 resources; K-002 capped
at 1,000,000), a fixed-fee and a milestone contract, three staffing requests, a credit note
on P-002's invoice, a payment on P-001's, and two resolved exceptions. The clock is fixed so
the event log's times are known. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update

from handoffs.analytics import Scope, compute
from handoffs.bench.datagen import ROLES
from handoffs.bootstrap import App
from handoffs.domain.codec import decode
from handoffs.domain.contracts import Contract
from handoffs.flows.crediting import issue_credit_note
from handoffs.store.tables import exceptions, invoices
from tests.support.flow import drain, firm_lines, load

CENT = Decimal("0.01")


class Clock:
    def __init__(self, at: str) -> None:
        self.at = datetime.fromisoformat(at)

    def now(self) -> datetime:
        return self.at


def _set_clock(hub: App, at: str) -> None:
    clock = Clock(at)
    hub.ports.clock = clock
    hub.uow.clock = clock


def _line(**fields: Any) -> str:
    return orjson.dumps(fields).decode()


EXTRA = [
    _line(type="contract", id="K-FF", customer_id="C-001", legal_entity_id="LE-US", currency="USD",
          billing_model="fixed_fee", start_date="2026-01-01", end_date="2026-03-31",
          fixed_fee={"amount": "10000.00", "currency": "USD"},
          estimated_cost={"amount": "8000.00", "currency": "USD"},
          installments=[{"id": "I1", "due_date": "2026-03-31",
                         "amount": {"amount": "10000.00", "currency": "USD"}}]),
    _line(type="contract", id="K-MS", customer_id="C-001", legal_entity_id="LE-US", currency="USD",
          billing_model="milestone", start_date="2026-01-01",
          milestones=[{"id": "M1", "name": "Design", "amount": {"amount": "3000.00", "currency": "USD"},
                       "accepted_on": "2026-01-20"},
                      {"id": "M2", "name": "Build", "amount": {"amount": "2000.00", "currency": "USD"}}]),
    _line(type="project", id="P-FF", name="Fixed", legal_entity_id="LE-US", customer_id="C-001",
          contract_id="K-FF", start_date="2026-01-01"),
    _line(type="project", id="P-MS", name="Milestones", legal_entity_id="LE-US", customer_id="C-001",
          contract_id="K-MS", start_date="2026-01-01"),
    _line(type="resource_request", id="REQ-1", project_id="P-001", role="analyst",
          start_date="2026-01-05", end_date="2026-01-30", hours_per_week="40", status="filled"),
    _line(type="resource_request", id="REQ-2", project_id="P-001", role="manager",
          start_date="2026-01-12", end_date="2026-01-30", hours_per_week="20"),
    _line(type="resource_request", id="REQ-3", project_id="P-002", role="partner",
          start_date="2026-01-19", end_date="2026-01-30", hours_per_week="8", status="cancelled"),
]  # fmt: skip
ASSIGNMENT = _line(
    type="assignment", id="A-REQ-1", project_id="P-001", resource_id="R-0001", role="analyst",
    start_date="2026-01-07", end_date="2026-01-30", request_id="REQ-1",
)  # fmt: skip


@dataclass
class Firm:
    hub: App
    entries: list[dict[str, Any]]
    contracts: dict[str, Contract]
    invoice_of: dict[str, str]  # project -> its January invoice

    def products(self, **scope: Any) -> dict[str, Any]:
        with self.hub.engine.connect() as conn:
            return compute(conn, Scope(**({"period_from": "2026-01", "period_to": "2026-02"} | scope)))

    def role(self, resource_id: str) -> str:
        return list(ROLES)[int(resource_id[2:]) % 4]

    def time_value(self, project_id: str) -> Decimal:
        """Revenue = invoice subtotal: hours x rate per (resource, rate), rounded per group."""
        groups: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
        contract = self.contracts[project_id.replace("P-", "K-")]
        for e in self.entries:
            if e["project_id"] == project_id:
                day = date.fromisoformat(e["work_date"])
                rate = contract.rate_for(self.role(e["resource_id"]), day)[1].amount
                groups[(e["resource_id"], rate)] += Decimal(e["hours"])
        return sum(((rate * h).quantize(CENT, ROUND_HALF_UP) for (_, rate), h in groups.items()), Decimal(0))


@pytest.fixture
def firm(hub: App) -> Firm:
    lines = firm_lines(entries=40, projects=2)
    lines = [
        x.replace('"cap":null', '"cap":{"amount":"1000000.00","currency":"USD"}')
        if '"id":"K-002"' in x
        else x
        for x in lines
    ]
    _set_clock(hub, "2026-02-02T09:00:00+00:00")
    assert load(hub, lines + EXTRA).failed == 0
    _set_clock(hub, "2026-02-03T12:00:00+00:00")
    assert load(hub, [ASSIGNMENT]).failed == 0
    drain(hub)
    with hub.uow() as uow:
        invoice_of = {
            r.project_id: r.id for r in uow.connection.execute(select(invoices.c.project_id, invoices.c.id))
        }
        issue_credit_note(uow, hub.ports, invoice_of["P-002"], "wrong PO", date(2026, 2, 5))
        first = uow.exceptions.add(category="pricing", source="test", reason="x", raw="{}", detail={},
                                   object_type="time_entry", object_id="TE-00000003")  # fmt: skip
        second = uow.exceptions.add(category="delivery", source="test", reason="y", raw="{}", detail={},
                                    object_type="invoice", object_id=invoice_of["P-001"])  # fmt: skip
        for ex_id, resolved in ((first, "2026-02-04T00:00:00"), (second, "2026-02-05T12:00:00")):
            uow.connection.execute(
                update(exceptions)
                .where(exceptions.c.id == ex_id)
                .values(
                    state="resolved",
                    created_at=datetime(2026, 2, 3, 12, tzinfo=UTC),
                    updated_at=datetime.fromisoformat(resolved + "+00:00"),
                )
            )
        uow.commit()
    payment = _line(type="payment", id="PAY-1", invoice_id=invoice_of["P-001"], customer_id="C-001",
                    amount={"amount": "1000.00", "currency": "USD"}, received_on="2026-02-10")  # fmt: skip
    assert load(hub, [payment]).failed == 0
    entries = [orjson.loads(x) for x in lines if '"type":"time_entry"' in x]
    contracts = {
        d["id"]: decode(Contract, {k: v for k, v in d.items() if k != "type"})
        for d in (orjson.loads(x) for x in lines if '"type":"contract"' in x)
    }
    return Firm(hub, entries, contracts, invoice_of)


def _row(product: Any, **key: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in product.rows if all(r[k] == v for k, v in key.items())]
    assert len(found) == 1, found
    return found[0]


def _hours(firm: Firm, project_id: str | None = None) -> Decimal:
    return sum(
        (Decimal(e["hours"]) for e in firm.entries if project_id in (None, e["project_id"])), Decimal(0)
    )


def test_utilisation_is_approved_hours_over_weekday_capacity(firm: Firm) -> None:
    row = _row(firm.products()["utilisation"], period="2026-01")
    capacity = Decimal(10 * 40 * 22) / 5  # ten resources, 40 h a week, 22 weekdays in January 2026
    assert row["capacity_hours"] == capacity and row["resources"] == 10
    assert row["approved_hours"] == _hours(firm) == row["billable_hours"]
    assert row["utilisation"] == (_hours(firm) / capacity).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def test_backlog_is_fee_milestones_and_cap_not_yet_delivered(firm: Firm) -> None:
    k2 = firm.contracts["K-002"]
    delivered = sum(
        (
            Decimal(e["hours"])
            * k2.rate_for(firm.role(e["resource_id"]), date.fromisoformat(e["work_date"]))[1].amount
            for e in firm.entries
            if e["project_id"] == "P-002"
        ),
        Decimal(0),
    )
    jan, feb = (_row(firm.products()["backlog"], period=p) for p in ("2026-01", "2026-02"))
    assert jan["fixed_fee_remaining"] == Decimal("10000.00")  # no fixed-fee revenue yet
    assert jan["milestone_remaining"] == Decimal("2000.00")  # M1 accepted on 20 January
    assert jan["capped_tm_remaining"] == (Decimal(1_000_000) - delivered).quantize(CENT, ROUND_HALF_UP)
    assert (
        jan["backlog"] == jan["fixed_fee_remaining"] + jan["milestone_remaining"] + jan["capped_tm_remaining"]
    )
    assert jan["contracts"] == 3
    assert feb["capped_tm_remaining"] == 0 and feb["backlog"] == Decimal("12000.00")  # K-002 ended in January


def test_wip_is_recognised_revenue_not_yet_billed(firm: Firm) -> None:
    jan, feb = (_row(firm.products()["wip"], period=p) for p in ("2026-01", "2026-02"))
    both = firm.time_value("P-001") + firm.time_value("P-002")
    assert jan["recognised_to_date"] == both == jan["billed_to_date"] and jan["wip"] == 0
    assert feb["billed_in_period"] == -firm.time_value("P-002")  # the credit note
    assert feb["wip"] == firm.time_value("P-002") and feb["deferred_revenue"] == 0


def test_dso_is_receivables_over_three_months_billing(firm: Firm) -> None:
    t1, t2 = firm.time_value("P-001"), firm.time_value("P-002")  # no tax: totals = subtotals
    jan, feb = (_row(firm.products()["dso"], period=p) for p in ("2026-01", "2026-02"))
    assert (jan["receivables"], jan["billed_3m"], jan["days_3m"], jan["dso_days"]) == (
        t1 + t2,
        t1 + t2,
        92,
        92,
    )
    assert feb["receivables"] == t1 - 1000 and feb["billed_3m"] == t1 and feb["days_3m"] == 90
    assert feb["dso_days"] == ((t1 - 1000) * 90 / t1).quantize(CENT, ROUND_HALF_UP)


def test_project_margin_is_revenue_less_hours_at_cost_rates(firm: Firm) -> None:
    for project in ("P-001", "P-002"):
        cost = sum(
            (
                Decimal(e["hours"]) * ROLES[firm.role(e["resource_id"])] * Decimal("0.45")
                for e in firm.entries
                if e["project_id"] == project
            ),
            Decimal(0),
        ).quantize(CENT, ROUND_HALF_UP)
        row = _row(firm.products()["project_margin"], project_id=project, period="2026-01")
        revenue = firm.time_value(project)
        assert (row["hours"], row["revenue"], row["cost"]) == (_hours(firm, project), revenue, cost)
        assert row["margin"] == revenue - cost
        assert row["margin_pct"] == ((revenue - cost) / revenue).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def test_invoice_cycle_time_runs_from_approval_to_posting(firm: Firm) -> None:
    row = _row(firm.products()["invoice_cycle_time"], period="2026-02")
    # approved 31 Jan 18:00, posted 3 Feb 12:00 = 66 h; P-002's entries were credited (no live line)
    assert row["invoices"] == 1 and row["entries"] == len(
        [e for e in firm.entries if e["project_id"] == "P-001"]
    )
    assert row["mean_days"] == row["median_days"] == row["p90_days"] == row["max_days"] == Decimal("2.75")


def test_straight_through_counts_invoiced_records_without_exceptions(firm: Firm) -> None:
    row = _row(firm.products()["straight_through"], period="2026-01")
    assert (row["records"], row["invoiced"], row["with_exception"], row["straight_through"]) == (
        40,
        40,
        1,
        39,
    )
    assert row["rate"] == Decimal("0.9750")


def test_time_to_staff_from_request_to_assignment(firm: Firm) -> None:
    row = _row(firm.products()["time_to_staff"], period="2026-01")
    assert (row["requests"], row["filled"], row["open"], row["cancelled"]) == (3, 1, 1, 1)
    assert row["mean_days_to_staff"] == Decimal("1.13")  # recorded 2 Feb 09:00 -> 3 Feb 12:00 = 1.125 days
    assert row["mean_start_slip_days"] == Decimal("2.00")  # requested 5 Jan, started 7 Jan


def test_exception_resolution_time_by_month_resolved(firm: Firm) -> None:
    row = _row(firm.products()["exception_resolution"], period="2026-02")
    assert (row["legal_entity_id"], row["resolved"]) == ("LE-US", 2)
    assert (row["mean_hours"], row["median_hours"], row["p90_hours"], row["max_hours"]) == (30, 12, 48, 48)


def test_scope_filters_entity_and_months(firm: Firm) -> None:
    products = firm.products(entity="LE-XX")
    assert all(not p.rows for p in products.values())
    feb_only = firm.products(period_from="2026-02", period_to="2026-02")
    assert {r["period"] for p in feb_only.values() for r in p.rows} == {"2026-02"}
