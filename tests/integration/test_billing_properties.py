"""Billing invariants through the store and the worker, for generated firms (SQLite and PostgreSQL).

For any mix of approved hours across a mid-month rate change, with or without a cap:
every approved billable hour is billed exactly once or held on a write-down with a reason,
every invoice equals its lines plus tax, every journal balances per entity and currency,
and time revenue to date never exceeds the cap.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoffs.bench.datagen import backfill_lines
from handoffs.domain.money import Money
from tests.support.flow import drain, load

ENTRY = st.tuples(st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=40))


def _firm(entries: list[tuple[int, int]], cap: int | None) -> list[str]:
    lines = list(backfill_lines(entries=0, projects=1))
    if cap is not None:
        lines = [_capped(line, cap) if '"type":"contract"' in line else line for line in lines]
    for n, (day, quarters) in enumerate(entries):
        lines.append(
            orjson.dumps(
                {
                    "type": "time_entry",
                    "id": f"TE-{n:05d}",
                    "resource_id": "R-0001",
                    "project_id": "P-001",
                    "assignment_id": "A-0001",
                    "work_date": (date(2026, 1, 1) + timedelta(days=day)).isoformat(),
                    "hours": str(Decimal(quarters) / 4),
                    "status": "approved",
                    "source_version": 1,
                }
            ).decode()
        )
    return lines


def _capped(line: str, cap: int) -> str:
    contract = orjson.loads(line)
    contract["cap"] = {"amount": f"{cap}.00", "currency": "USD"}
    return orjson.dumps(contract).decode()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.lists(ENTRY, min_size=1, max_size=25), cap=st.none() | st.integers(min_value=0, max_value=8000)
)
def test_billing_invariants_hold_in_the_store(
    fresh_hub, entries: list[tuple[int, int]], cap: int | None
) -> None:  # type: ignore[no-untyped-def]
    hub = fresh_hub()
    lines = _firm(entries, cap)
    load(hub, lines)
    drain(hub)
    hours = {f"TE-{n:05d}": Decimal(q) / 4 for n, (_, q) in enumerate(entries)}
    with hub.uow() as uow:
        documents = [inv for inv, _ in uow.invoices.iter_all()]
        held: dict[str, Decimal] = defaultdict(Decimal)
        for proposal in uow.finance.proposals():
            assert proposal.doc["reason"]  # a write-down always says why
            for item in proposal.doc["items"]:
                held[item["entry"]] += Decimal(item["hours"])
        journals = uow.finance.journal_entries()
        events = uow.finance.revenue_events()
        assert uow.exceptions.count_by_category() == {}
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in documents:
        assert invoice.total == invoice.subtotal + invoice.tax
        assert invoice.subtotal == Money.sum([line.amount for line in invoice.lines], invoice.currency)
        for line in invoice.lines:
            share = line.quantity if len(line.sources) == 1 else None
            for source in line.sources:
                billed[source.id] += share if share is not None else hours[source.id]
    for entry_id, worked in hours.items():
        assert billed[entry_id] + held[entry_id] == worked, entry_id  # billed once, or held with a reason
    for entry in journals:
        debits = sum((x.debit.amount for x in entry.lines), Decimal(0))
        assert debits == sum((x.credit.amount for x in entry.lines), Decimal(0))
    if cap is not None:
        assert sum((e.amount.amount for e in events), Decimal(0)) <= cap
        assert sum((i.subtotal.amount for i in documents), Decimal(0)) <= cap
