"""The worked examples of docs/billing-and-revenue.md, run through loading and the worker.

Each example's canonical JSON Lines go through the same path as ``handoffs load``; the
worker and the operator commands (``handoffs bill``, ``credit-note``, ``proposals approve``)
do the rest; the figures must equal the hand-computed ones in ``<example>.expected.json``.
Document ids are the hub's own, so they are left out of the comparison.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson
import pytest

from handoffs.bootstrap import App
from handoffs.domain.codec import encode
from handoffs.flows.crediting import issue_credit_note
from handoffs.flows.operations import decide_proposal, request_billing
from tests.support.flow import drain, load

FIXTURES = Path(__file__).parents[1] / "fixtures" / "billing"


class FixedClock:
    def __init__(self, day: str) -> None:
        self.day = day

    def now(self) -> datetime:
        return datetime.fromisoformat(f"{self.day}T12:00:00+00:00")


def lines(name: str) -> list[str]:
    return (FIXTURES / f"{name}.jsonl").read_text().splitlines()


def expected(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.expected.json").read_text())


def bill(hub: App, period: str, issue_date: str | None = None) -> None:
    with hub.uow() as uow:
        request_billing(
            uow, hub.ports, period, issue_date=date.fromisoformat(issue_date) if issue_date else None
        )
        uow.commit()
    drain(hub)


def run(hub: App, name: str, today: str, steps: list[Callable[[App], None]] | None = None) -> None:
    hub.ports.clock = FixedClock(today)
    for step in steps or [lambda h: load(h, lines(name)), drain]:
        step(hub)


def with_estimate(amount: str, version: int) -> Callable[[App], None]:
    def step(hub: App) -> None:
        contract = next(orjson.loads(x) for x in lines("fixed-fee-poc") if '"type":"contract"' in x)
        contract["estimated_cost"]["amount"] = amount
        contract["source_version"] = version
        load(hub, [orjson.dumps(contract).decode()])
        drain(hub)

    return step


def credit_first_invoice(reason: str, day: str) -> Callable[[App], None]:
    def step(hub: App) -> None:
        with hub.uow() as uow:
            [first] = [inv for inv, _ in uow.invoices.iter_all()]
            issue_credit_note(uow, hub.ports, first.id, reason, date.fromisoformat(day))
            uow.commit()
        drain(hub)

    return step


def approve_proposals(hub: App) -> None:
    with hub.uow() as uow:
        for p in uow.finance.proposals(state="open"):
            decide_proposal(
                uow, hub.ports, p.id, approve=True, by="controller", reason="rate amendment agreed"
            )
        uow.commit()
    drain(hub)


def amendment_steps() -> list[Callable[[App], None]]:
    all_lines = lines("amendment-reprice")
    v2 = next(x for x in all_lines if '"type":"contract"' in x and '"source_version":2' in x)
    return [
        lambda h: load(h, [x for x in all_lines if x != v2]),
        drain,
        lambda h: load(h, [v2]),
        drain,
        approve_proposals,
        lambda h: bill(h, "2026-06"),
    ]


SCENARIOS: dict[str, tuple[str, Callable[[], list[Callable[[App], None]]] | None]] = {
    "tm-rate-change": ("2026-04-15", None),
    "tm-cap": ("2026-04-15", None),
    "late-approval": ("2026-05-15", None),
    "milestone-vat": (
        "2026-04-20",
        lambda: [lambda h: load(h, lines("milestone-vat")), drain, lambda h: bill(h, "2026-04")],
    ),
    "expense-fx-markup": (
        "2026-04-15",
        lambda: [lambda h: load(h, lines("expense-fx-markup")), drain, lambda h: bill(h, "2026-03")],
    ),
    "fixed-fee-poc": (
        "2026-04-15",
        lambda: [
            lambda h: load(h, lines("fixed-fee-poc")),
            drain,
            with_estimate("8000.00", 1),
            lambda h: bill(h, "2026-01"),
            with_estimate("10000.00", 2),
            lambda h: bill(h, "2026-02"),
            with_estimate("12500.00", 3),
            lambda h: bill(h, "2026-03"),
        ],
    ),
    "credit-reinvoice": (
        "2026-05-04",
        lambda: [
            lambda h: load(h, lines("credit-reinvoice")),
            drain,
            lambda h: bill(h, "2026-04"),
            credit_first_invoice("customer purchase order number missing; reissued", "2026-05-04"),
            lambda h: bill(h, "2026-04", "2026-05-04"),
        ],
    ),
    "amendment-reprice": ("2026-06-10", amendment_steps),
}


def _num(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _num(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_num(v) for v in value]
    if (isinstance(value, str) and not value[:4].isdigit()) or (isinstance(value, str) and len(value) <= 4):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _key(item: Any) -> str:
    return orjson.dumps(item, default=str, option=orjson.OPT_SORT_KEYS).decode()


def _same(got: list[Any], want: list[Any]) -> None:
    assert sorted(map(_key, _num(got))) == sorted(map(_key, _num(want)))


def _invoice(inv: Any) -> dict[str, Any]:
    d = encode(inv)
    return {
        "kind": d["kind"],
        "period": d["period"],
        "issue_date": d["issue_date"],
        "currency": d["currency"],
        "subtotal": d["subtotal"]["amount"],
        "tax": d["tax"]["amount"],
        "total": d["total"]["amount"],
        "lines": [
            {
                "kind": ln["kind"],
                "quantity": ln["quantity"],
                "unit_price": ln["unit_price"]["amount"],
                "amount": ln["amount"]["amount"],
                "tax": ln["tax"]["amount"],
                "sources": [
                    f"{s['type']}:{s['id'] if s['type'] != 'invoice_line' else '*'}" for s in ln["sources"]
                ],
                **({"rate_card_version": ln["rate_card_version"]} if ln["rate_card_version"] else {}),
                **(
                    {"fx_rate": ln["fx_rate"], "fx_rate_id": ln["fx_rate_id"]} if ln.get("fx_rate_id") else {}
                ),
            }
            for ln in d["lines"]
        ],
    }


def _want_invoice(d: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: v for k, v in d.items() if k != "id"},
        "lines": [
            {
                **{k: v for k, v in ln.items() if k != "id"},
                "sources": [
                    s if not s.startswith("invoice_line:") else "invoice_line:*" for s in ln["sources"]
                ],
            }
            for ln in d["lines"]
        ],
    }


def _journal(je: Any) -> dict[str, Any]:
    lines_ = []
    for line in je.lines:
        side = ("debit", line.debit) if not line.debit.is_zero else ("credit", line.credit)
        lines_.append({"account": line.account, side[0]: str(side[1].amount)})
    return {
        "period": je.period,
        "entry_date": je.entry_date.isoformat(),
        "currency": je.currency,
        "lines": lines_,
        **({"reason": _no_ids(je.memo.split("; ", 1)[1])} if "; " in je.memo else {}),
    }


def _no_ids(text: str) -> str:
    return re.sub(r"\b(REV|INV|CN|JE)-\S+", "<id>", text)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_worked_example_through_load_and_the_worker(hub: App, name: str) -> None:
    today, steps = SCENARIOS[name]
    run(hub, name, today, steps() if steps else None)
    want = expected(name)
    with hub.uow() as uow:
        documents = [inv for inv, _ in uow.invoices.iter_all() if uow.invoices.status(inv.id) != "imported"]
        loaded = {orjson.loads(x)["id"] for x in lines(name) if '"type":"revenue_event"' in x}
        events = [e for e in uow.finance.revenue_events() if e.id not in loaded]
        journals = uow.finance.journal_entries()
        proposals = uow.finance.proposals()
        assert uow.exceptions.count_by_category() == {}
    _same([_invoice(i) for i in documents], [_want_invoice(i) for i in want["invoices"]])
    if "revenue_events" in want:
        got = [
            {
                "period": e.period,
                "recognised_on": e.recognised_on.isoformat(),
                "method": e.method,
                "amount": str(e.amount.amount),
            }
            for e in events
        ]
        _same(got, want["revenue_events"])
    if want.get("journals"):
        _same(
            [_journal(j) for j in journals],
            [
                {
                    **{k: v for k, v in j.items() if k != "id"},
                    **({"reason": _no_ids(j["reason"])} if "reason" in j else {}),
                }
                for j in want["journals"]
            ],
        )
        for je in journals:
            assert sum(x.debit.amount for x in je.lines) == sum(x.credit.amount for x in je.lines)
    if "write_down" in want:
        [wd] = [p for p in proposals if p.kind == "write_down"]
        assert (wd.doc["hours"], str(wd.amount)) == (
            want["write_down"]["hours"],
            want["write_down"]["amount"],
        )
        assert wd.doc["items"] == [
            {"entry": i["entry"], "hours": i["hours"], "rate": i["rate"]} for i in want["write_down"]["items"]
        ]
    if "proposal" in want:
        [p] = [p for p in proposals if p.kind == "credit_and_rebill"]
        assert (p.doc["impact_net"], p.doc["impact_total"]) == (
            want["proposal"]["impact_net"],
            want["proposal"]["impact_total"],
        )
        assert p.state == "approved"
    drain(hub)
    assert UTC  # the fixed clock is timezone-aware
