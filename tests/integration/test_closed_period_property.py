"""#16 item 4, as a property: once a legal entity's month is closed, its reported figures
(the revenue export and every analytics product) never change, whatever is loaded, billed,
credited or corrected afterwards; and nothing late is lost: all revenue is reported in
some month. SQLite: the reports are the same SQL on both databases (test_period_close runs
the worked example on PostgreSQL too)."""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoffs.analytics import compute, reported_at_close
from handoffs.bootstrap import App, build
from handoffs.cli.export import revenue_rows
from handoffs.flows.crediting import issue_credit_note
from handoffs.flows.operations import decide_proposal, request_billing
from handoffs.settings import Settings
from handoffs.store.db import make_engine
from handoffs.store.migrate import upgrade
from tests.integration.test_billing_examples import FixedClock
from tests.support.docs import doc_input
from tests.support.flow import drain, load

MARCH = doc_input("billing-and-revenue.md", "period-close/march.jsonl").splitlines()
ENTRY = orjson.loads(next(x for x in MARCH if '"id":"T-901"' in x))


def entry(n: int, work: date, hours: str, approved: date, version: int = 1) -> str:
    return orjson.dumps(
        {
            **ENTRY,
            "id": f"T-{n}",
            "work_date": work.isoformat(),
            "hours": hours,
            "approved_at": f"{approved.isoformat()}T17:00:00+00:00",
            "source_version": version,
        }
    ).decode()


def reported(hub: App, period: str) -> dict[str, Any]:
    with hub.uow() as uow:
        products = compute(uow.connection)
        revenue = sorted((r["id"], r["amount"]["amount"]) for r in revenue_rows(uow) if r["period"] == period)
    rows = {n: [r for r in p.rows if r["period"] == period] for n, p in products.items()}
    return {"revenue": revenue, "products": rows}


hours = st.sampled_from(["0.50", "2.00", "4.25", "7.75"])
actions = st.lists(
    st.one_of(
        st.tuples(st.just("late"), hours, st.integers(1, 31)),  # March work approved in April
        st.tuples(st.just("april"), hours, st.integers(1, 30)),
        st.tuples(st.just("bill"), st.sampled_from(["2026-03", "2026-04"])),
        st.tuples(st.just("credit"), st.integers(0, 3)),
        st.tuples(st.just("correct"), hours),  # billed T-901 changed: credit-and-rebill, approved
    ),
    min_size=1,
    max_size=5,
)


def apply(hub: App, action: tuple[Any, ...], n: int) -> None:
    kind = action[0]
    if kind == "late":
        load(hub, [entry(n, date(2026, 3, action[2]), action[1], date(2026, 4, 20))])
    elif kind == "april":
        load(hub, [entry(n, date(2026, 4, action[2]), action[1], date(2026, 4, 30))])
    elif kind == "correct":
        load(hub, [entry(901, date(2026, 3, 10), action[1], date(2026, 3, 31), version=n)])
        drain(hub)
        with hub.uow() as uow:
            for p in uow.finance.proposals(state="open"):
                decide_proposal(uow, hub.ports, p.id, approve=True, by="controller", reason="corrected")
            uow.commit()
    elif kind == "bill":
        with hub.uow() as uow:
            request_billing(uow, hub.ports, action[1])
            uow.commit()
    else:
        with hub.uow() as uow:
            issued = [i for i, _ in uow.invoices.iter_all() if i.kind == "invoice"]
            credited = {i.credits_invoice_id for i, _ in uow.invoices.iter_all()}
            open_ = [i for i in issued if i.id not in credited]
            if open_:
                issue_credit_note(
                    uow, hub.ports, open_[action[1] % len(open_)].id, "late fix", date(2026, 5, 3)
                )
                uow.commit()
    drain(hub)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=actions)
def test_a_closed_month_reports_the_same_whatever_happens_after(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hub.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        hub = build(Settings(database_url=url, erp="none", backoff_base=0.01, max_attempts=2))
        try:
            hub.ports.clock = FixedClock("2026-04-01")
            load(hub, MARCH)
            drain(hub)
            with hub.uow() as uow:
                kept = reported_at_close(uow.connection, "LE-FR", "2026-03")
                uow.periods.close("LE-FR", "2026-03", "controller", kept)
                uow.commit()
            at_close = reported(hub, "2026-03")
            hub.ports.business_date = date(2026, 5, 2)  # April has ended: late runs bill there
            for n, action in enumerate(steps, start=2000):
                apply(hub, action, n)
            assert reported(hub, "2026-03") == at_close
            with hub.uow() as uow:
                events = sum(Decimal(r["amount"]["amount"]) for r in revenue_rows(uow))
                wip = compute(uow.connection, names=["wip"])["wip"].rows
            assert sum(r["recognised_in_period"] for r in wip) == events  # nothing late is lost
        finally:
            hub.close()
