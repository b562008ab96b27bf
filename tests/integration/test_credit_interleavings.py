"""No line credited twice, whatever the order, through the store and the flows (SQLite).

Hypothesis interleaves, on a two-entry invoice: credit notes of the whole invoice or of one
entry (``issue_credit_note``), corrections of billed hours that become adjustment proposals,
approvals of whichever proposal is open (``decide_proposal``, which re-checks it), and billing
runs (``request_billing`` and the worker). After every step the stored documents give a
ledger (no source of a line credited twice, no line credited past its amount), the database's
billing check finds no source on two live lines and every total adding up, and
reconciliation by amount finds no ``credited_twice``, ``amount`` or ``tax`` break.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoffs.domain.errors import ValidationError
from handoffs.domain.ledger import BillingLedger
from handoffs.flows.crediting import issue_credit_note
from handoffs.flows.operations import decide_proposal, request_billing
from handoffs.reconcile.amounts import amount_breaks
from handoffs.reconcile.billing import check_billing
from tests.support.flow import drain, load

FIXTURE = Path(__file__).parents[1] / "fixtures" / "billing" / "stale-proposal.jsonl"
STEP = st.one_of(
    st.tuples(st.just("credit"), st.sampled_from([None, "T-931", "T-932"])),
    st.tuples(st.just("correct"), st.sampled_from(["T-931", "T-932"]), st.integers(1, 31)),
    st.tuples(st.just("approve")),
    st.tuples(st.just("bill")),
)


def _step(hub: Any, action: tuple[Any, ...], n: int) -> None:
    day = date(2026, 5, 4)
    try:
        with hub.uow() as uow:
            if action[0] == "credit":
                invoices = [i for i, _ in uow.invoices.iter_all() if i.kind == "invoice"]
                if invoices:
                    entries = [action[1]] if action[1] else None
                    issue_credit_note(uow, hub.ports, invoices[-1].id, f"step {n}", day, entries=entries)
            elif action[0] == "approve":
                for p in uow.finance.proposals(state="open")[:1]:
                    decide_proposal(uow, hub.ports, p.id, approve=True, by="controller", reason=f"step {n}")
            elif action[0] == "bill":
                request_billing(uow, hub.ports, "2026-04", "P-STALE", day)
            uow.commit()
    except ValidationError:
        return  # refused: a stale proposal, or nothing left to credit
    if action[0] == "correct":
        entry = next(orjson.loads(x) for x in FIXTURE.read_text().splitlines() if f'"{action[1]}"' in x)
        load(hub, [orjson.dumps({**entry, "hours": f"{action[2] / 4:.2f}"}).decode()])
    drain(hub)


def _check(hub: Any) -> None:
    with hub.uow() as uow:
        documents = [i for i, _ in uow.invoices.iter_all()]
        BillingLedger.from_documents(documents)  # raises if a line was credited twice
        billing = check_billing(uow.connection)
        _, found = amount_breaks(uow.connection, "2026-04", ["P-STALE"], read_back=False)
    assert billing.double_billed_entries == 0 and not billing.invoices_total_mismatch
    assert not billing.lines_rate_mismatch
    assert [f for f in found if f[0] in ("credited_twice", "amount", "tax")] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=2, max_size=6))
def test_no_line_is_credited_twice_under_any_interleaving(
    fresh_hub: Any, steps: list[tuple[Any, ...]]
) -> None:
    hub = fresh_hub()
    load(hub, FIXTURE.read_text().splitlines())
    drain(hub)
    for n, action in enumerate(steps):
        _step(hub, action, n)
        _check(hub)
