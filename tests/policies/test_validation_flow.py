"""Time and expense validation before finance, end to end on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from handoffs.audit import entries
from handoffs.bootstrap import App
from handoffs.flows.validation import decide_time
from tests.policies.support import book, entry, expense, firm, hub_on, open_exceptions, states
from tests.support.flow import drain, load


def _invoiced_hours(hub: App) -> dict[str, Decimal]:
    with hub.uow() as uow:
        invoices = [i for i, _ in uow.invoices.iter_all() if i.kind == "invoice"]
    return {i.project_id: sum((ln.quantity for ln in i.lines), Decimal(0)) for i in invoices}


def test_each_record_is_priced_or_an_exception_naming_its_rule(policy_hub: App) -> None:
    load(
        policy_hub,
        [
            *firm(),
            entry("T-ok"),
            entry("T-long", "7.5"),  # above 7 h with one approver
            entry("T-long-ok", "7.5", approved_by="M-1,M-2"),
            entry("T-self", approved_by="R-1"),
            entry("T-training", task="training"),
            entry("T-unstaffed", day="2026-02-02"),  # assignment ends 2026-01-31
            entry("T-on-hold", project="P-2"),
        ],
    )
    drain(policy_hub)
    assert states(policy_hub) == {
        "T-ok": "billed",
        "T-long-ok": "billed",
        "T-long": "rejected",
        "T-self": "rejected",
        "T-training": "not_billable",
        "T-unstaffed": "rejected",
        "T-on-hold": "rejected",
    }
    rules = {
        e.object_id: (e.detail["rule"], e.detail["policy"], e.detail["policy_version"])
        for e in open_exceptions(policy_hub, "validation")
    }
    assert rules == {
        "T-long": ("approvals.second-approver", "test", 1),
        "T-self": ("approvals.self_approval", "test", 1),
        "T-unstaffed": ("resource.assigned", "test", 1),
        "T-on-hold": ("project.active", "test", 1),
    }
    assert _invoiced_hours(policy_hub) == {"P-1": Decimal("13.5")}


def test_an_expense_that_breaks_a_rule_is_an_exception_and_never_billed(policy_hub: App) -> None:
    report = load(
        policy_hub,
        [
            *firm(),
            expense("X-ok"),
            expense("X-no-receipt", has_receipt=False),
            expense("X-gifts", category="gifts"),
        ],
    )
    assert report.outcomes["rejected"] == 2
    with policy_hub.uow() as uow:
        assert [x.id for x in uow.objects.all("expense")] == ["X-ok"]
    rules = {e.object_id: e.detail["rule"] for e in open_exceptions(policy_hub, "validation")}
    assert rules == {"X-no-receipt": "approvals.receipt-over-75", "X-gifts": "gl.expense_account"}
    assert all('"X-' in e.raw for e in open_exceptions(policy_hub, "validation"))  # the raw record is kept


def test_a_record_keeps_the_result_of_the_policy_version_it_was_processed_under(database_url: str) -> None:
    v1 = hub_on(database_url, book((1, "7", "2026-01-01")))
    try:
        load(v1, [*firm(), entry("T-long", "7.5"), entry("T-ok", "6")])
        drain(v1)
        assert states(v1) == {"T-long": "rejected", "T-ok": "billed"}
    finally:
        v1.close()
    # version 2 raises the threshold to 8 h and is in force for the same dates
    v2 = hub_on(database_url, book((1, "7", "2026-01-01"), (2, "8", "2026-01-05")))
    try:
        load(v2, [entry("T-long", "7.5"), entry("T-new", "7.5")])  # the same T-long again, and a new entry
        drain(v2)
        assert states(v2) == {"T-long": "rejected", "T-ok": "billed", "T-new": "billed"}
        with v2.uow() as uow:
            for id_, ref in (("T-long", "test@v1"), ("T-ok", "test@v1"), ("T-new", "test@v2")):
                stored = uow.time_entries.get(id_)
                project = uow.objects.get("project", "P-1")
                assert decide_time(uow, v2.ports, stored.entry, stored.version, project).policy_ref == ref
        assert len(open_exceptions(v2, "validation")) == 1
    finally:
        v2.close()


def test_without_policies_pricing_is_unchanged(database_url: str) -> None:
    hub = hub_on(database_url, None)
    try:
        load(hub, [*firm(), entry("T-long", "7.5"), entry("T-training", task="training")])
        drain(hub)
        assert states(hub) == {"T-long": "billed", "T-training": "billed"}
    finally:
        hub.close()


def test_a_rejection_after_posting_reverses_the_posting(policy_hub: App) -> None:
    load(policy_hub, [*firm(), entry("T-a", "5"), entry("T-b", "3")])
    drain(policy_hub)
    with policy_hub.uow() as uow:
        [(first, status)] = list(uow.invoices.iter_all())
    assert status == "posted" and first.subtotal.amount == Decimal("800.00")
    load(policy_hub, [entry("T-a", "5", status="rejected", version=2)])  # approval withdrawn at the source
    drain(policy_hub)
    with policy_hub.uow() as uow:
        docs = {i.id: (i.kind, i.subtotal.amount, s) for i, s in uow.invoices.iter_all()}
        proposals = uow.finance.proposals(state="open")
    credit = f"CN-{first.id}"
    assert docs[credit] == ("credit_note", Decimal("-800.00"), "posted")
    rebills = [v for k, v in docs.items() if k not in (first.id, credit)]
    assert rebills == [("invoice", Decimal("300.00"), "posted")]  # T-b billed again, T-a not
    assert states(policy_hub) == {"T-a": "rejected", "T-b": "billed"}
    assert proposals == []


def test_without_a_policy_a_withdrawn_approval_waits_as_a_proposal(database_url: str) -> None:
    hub = hub_on(database_url, None)
    try:
        load(hub, [*firm(), entry("T-a", "5"), entry("T-b", "3")])
        drain(hub)
        load(hub, [entry("T-a", "5", status="rejected", version=2)])
        drain(hub)
        with hub.uow() as uow:
            kinds = sorted(i.kind for i, _ in uow.invoices.iter_all())
            proposals = [p.id for p in uow.finance.proposals(state="open")]
        assert kinds == ["invoice"] and len(proposals) == 1 and proposals[0].startswith("ADJ-T-a-")
    finally:
        hub.close()


def test_a_corrected_version_supersedes_the_exception_of_the_rejected_one(policy_hub: App) -> None:
    load(policy_hub, [*firm(), entry("T-long", "7.5"), expense("X-no-receipt", has_receipt=False)])
    drain(policy_hub)
    rejected = {e.object_id: e.id for e in open_exceptions(policy_hub, "validation")}
    assert set(rejected) == {"T-long", "X-no-receipt"} and states(policy_hub)["T-long"] == "rejected"
    # the sources correct both: a second approver signs the long day, the receipt is attached
    load(
        policy_hub,
        [
            entry("T-long", "7.5", approved_by="M-1,M-2", version=2),
            expense("X-no-receipt", has_receipt=True, source_version=2),
        ],
    )
    drain(policy_hub)
    assert open_exceptions(policy_hub, "validation") == []
    with policy_hub.uow() as uow:
        settled = {uow.exceptions.get(i).object_id: uow.exceptions.get(i) for i in rejected.values()}
        trail = [e for e in entries(uow.connection) if e.action == "flow.supersede_exception"]
    assert {k: (v.state, v.resolution) for k, v in settled.items()} == {
        "T-long": ("resolved", "superseded by version 2"),
        "X-no-receipt": ("resolved", "superseded by version 2"),
    }
    assert sorted(e.target for e in trail) == sorted(f"exception:{i}" for i in rejected.values())
    assert all(e.actor == "handoffs" and e.before["record_version"] == "1" for e in trail)
    assert states(policy_hub)["T-long"] == "billed"


def test_the_same_rejected_version_again_keeps_its_exception_open(policy_hub: App) -> None:
    load(policy_hub, [*firm(), entry("T-long", "7.5")])
    drain(policy_hub)
    load(policy_hub, [entry("T-long", "7.5"), entry("T-ok", "6")])  # a re-sent copy and another entry
    drain(policy_hub)
    [still] = open_exceptions(policy_hub, "validation")
    assert still.object_id == "T-long" and still.resolution is None
