"""The first flow end to end on SQLite and PostgreSQL: load, price, invoice, post."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson

from handoffs.bootstrap import App
from handoffs.connectors.fake.erp import ErpFaults, InMemoryErp
from handoffs.engine.breaker import BreakerPolicy
from handoffs.engine.guard import SystemGuard
from handoffs.engine.replay import replay
from handoffs.flows.operations import decide_proposal
from tests.support.flow import billing, drain, firm_lines, load, snapshot


def _erp(hub: App) -> InMemoryErp:
    erp = hub.ports.erps["erp"]
    assert isinstance(erp, InMemoryErp)
    return erp


def test_every_approved_entry_is_billed_once_and_posted(hub: App) -> None:
    lines = firm_lines(entries=600, projects=4)
    report = load(hub, lines)
    assert report.failed == 0 and report.approvals_published == 600
    drain(hub)
    check = billing(hub)
    assert check.approved_billable_entries == 600
    assert check.billed_entries == 600
    assert check.double_billed_entries == 0
    assert check.unbilled_by_state == {}
    assert check.invoices_total_mismatch == [] and check.lines_rate_mismatch == []
    assert check.invoices == 4  # one invoice per project for the single period
    erp = _erp(hub)
    assert len(erp.records) == 4 and len(erp.calls) == 4
    with hub.uow() as uow:
        statuses = {status for _, status in uow.invoices.iter_all()}
        assert statuses == {"posted"}
        assert uow.deliveries.count_by_status() == {"confirmed": 4}


def test_invoices_price_each_entry_at_the_version_in_force(hub: App) -> None:
    lines = firm_lines(entries=300, projects=2)
    load(hub, lines)
    drain(hub)
    contracts = {}
    entries = {}
    for line in lines:
        data = orjson.loads(line)
        if data["type"] == "contract":
            contracts[data["id"]] = data
        elif data["type"] == "time_entry":
            entries[data["id"]] = data
    with hub.uow() as uow:
        invoices = [inv for inv, _ in uow.invoices.iter_all()]
    versions_seen = set()
    for invoice in invoices:
        contract = contracts[invoice.contract_id]
        expected_total = Decimal(0)
        for line in invoice.lines:
            exact = Decimal(0)
            for source in line.sources:
                entry = entries[source.id]
                version = max(
                    (v for v in contract["rate_card"] if v["effective_from"] <= entry["work_date"]),
                    key=lambda v: v["effective_from"],
                )
                assert version["version"] == line.rate_card_version
                versions_seen.add(version["version"])
                exact += Decimal(entry["hours"]) * Decimal(version["rates"][line.role])
            assert line.amount.amount == exact.quantize(Decimal("0.01"))
            expected_total += line.amount.amount
        assert invoice.total.amount == expected_total
    assert versions_seen == {1, 2}


def test_loading_the_same_file_twice_changes_nothing(hub: App) -> None:
    lines = firm_lines(entries=300, projects=3)
    load(hub, lines)
    drain(hub)
    before = snapshot(hub)
    calls_before = len(_erp(hub).calls)
    again = load(hub, lines)
    assert dict(again.outcomes) == {"unchanged": len(lines)}
    assert again.approvals_published == 0
    stats = drain(hub)
    assert stats["processed"] == 0
    assert snapshot(hub) == before
    assert len(_erp(hub).calls) == calls_before


def test_bad_lines_become_exceptions_and_good_lines_flow(hub: App) -> None:
    lines = firm_lines(entries=200, projects=2, malformed=6)
    report = load(hub, lines)
    assert report.failed == 6
    drain(hub)
    assert billing(hub).billed_entries == 200
    with hub.uow() as uow:
        problems = uow.exceptions.list(category="validation")
    assert len(problems) == 6
    raw_lines = set(lines)
    for problem in problems:
        assert problem.raw in raw_lines  # the original text, whole
        assert problem.detail["line"] >= 1
        assert problem.reason.startswith(f"line {problem.detail['line']}:")
    reasons = " ".join(p.reason for p in problems)
    for expected in ("hours", "not valid JSON", "work_date", "type", "currency", "float"):
        assert expected in reasons
    # Loading the same bad file again reports nothing new.
    load(hub, lines)
    with hub.uow() as uow:
        assert len(uow.exceptions.list(category="validation")) == 6


def test_replaying_everything_changes_nothing(hub: App) -> None:
    load(hub, firm_lines(entries=300, projects=3))
    drain(hub)
    before = snapshot(hub)
    calls = len(_erp(hub).calls)
    queued = replay(hub.uow, since=datetime(2000, 1, 1, tzinfo=UTC))
    assert queued > 300
    stats = drain(hub)
    assert stats["processed"] == queued and stats["dead"] == 0
    assert snapshot(hub) == before
    assert len(_erp(hub).calls) == calls


def test_lost_acknowledgements_and_errors_still_post_each_invoice_once(hub: App) -> None:
    erp = InMemoryErp(faults=ErpFaults(error_rate=0.3, lost_ack_rate=0.3, seed=5))
    hub.ports.erps["erp"] = erp
    hub.settings = dataclasses.replace(hub.settings, max_attempts=30)  # outlast the faults
    hub.ports.guard = SystemGuard(hub.engine, {}, BreakerPolicy(threshold=5, cooldown=0.05))
    load(hub, firm_lines(entries=400, projects=8))
    stats = drain(hub)
    assert stats["retried"] > 0
    assert len(erp.records) == 8  # one effect per idempotency key
    assert len(erp.calls) > 8  # retried after faults
    with hub.uow() as uow:
        assert uow.deliveries.count_by_status() == {"confirmed": 8}


def test_a_late_project_is_waited_for_then_billed(hub: App) -> None:
    lines = firm_lines(entries=100, projects=1)
    project_line = next(line for line in lines if '"type":"project"' in line)
    load(hub, [line for line in lines if line != project_line])
    hub.worker().run_once()  # pricing finds no project yet: retried, not dead
    with hub.uow() as uow:
        assert uow.exceptions.count_by_category() == {}
    load(hub, [project_line])
    drain(hub)
    assert billing(hub).billed_entries == 100


def test_an_entry_outside_its_assignment_is_an_exception_and_the_rest_flow(hub: App) -> None:
    lines = firm_lines(entries=100, projects=1)
    bad = orjson.loads(next(line for line in lines if '"TE-00000007"' in line))
    bad["work_date"] = "2025-12-31"  # before the project and the assignment start
    lines = [orjson.dumps(bad).decode() if '"TE-00000007"' in line else line for line in lines]
    load(hub, lines)
    drain(hub)
    check = billing(hub)
    assert check.billed_entries == 99
    assert check.unbilled_by_state == {"unpriced": 1}
    with hub.uow() as uow:
        [problem] = uow.exceptions.list()
    assert problem.category == "validation"
    assert "TE-00000007" in problem.reason and "outside" in problem.reason
    assert "TE-00000007" in problem.raw  # the message that failed, whole


def test_an_erp_that_refuses_dead_letters_the_delivery_with_its_payload(hub: App) -> None:
    class Refusing(InMemoryErp):
        def post_invoice(self, invoice, idempotency_key):  # type: ignore[no-untyped-def]
            from handoffs.engine.errors import TerminalError

            raise TerminalError("erp refused: customer is on credit hold")

    hub.ports.erps["erp"] = Refusing()
    load(hub, firm_lines(entries=50, projects=1))
    drain(hub)
    with hub.uow() as uow:
        [problem] = uow.exceptions.list()
        assert uow.deliveries.count_by_status() == {"failed": 1}
        assert {status for _, status in uow.invoices.iter_all()} == {"delivery_failed"}
    assert problem.consumer == "time-to-invoice.post"
    assert "credit hold" in problem.reason
    assert orjson.loads(problem.raw)["invoice_id"].startswith("INV-P-001-2026-01")


def test_an_older_version_arriving_late_does_not_overwrite_a_newer_one(hub: App) -> None:
    lines = firm_lines(entries=10, projects=1)
    entry = orjson.loads(lines[-1])
    newer = {**entry, "hours": "2", "source_version": 5}
    older = {**entry, "hours": "9", "source_version": 4}
    load(hub, [*lines[:-1], orjson.dumps(newer).decode()])
    report = load(hub, [orjson.dumps(older).decode()])
    assert dict(report.outcomes) == {"stale": 1}
    with hub.uow() as uow:
        assert uow.time_entries.get(entry["id"]).entry.hours == Decimal(2)


def test_a_change_to_a_billed_entry_waits_as_an_adjustment_proposal(hub: App) -> None:
    lines = firm_lines(entries=10, projects=1)
    load(hub, lines)
    drain(hub)
    entry = orjson.loads(lines[-1])
    changed = {**entry, "hours": "1.5", "source_version": 2}
    report = load(hub, [orjson.dumps(changed).decode()])
    assert dict(report.outcomes) == {"locked": 1}
    drain(hub)
    with hub.uow() as uow:
        [problem] = uow.exceptions.list(category="billed_entry_changed")
        assert uow.time_entries.get(entry["id"]).entry.hours == Decimal(
            entry["hours"]
        )  # not applied silently
        [proposal] = uow.finance.proposals(state="open")
    assert problem.object_id == entry["id"]
    assert proposal.kind == "credit_and_rebill" and "billed entry locked" in proposal.doc["reason"]
    rate = Decimal(proposal.doc["credit_note"]["lines"][0]["unit_price"]["amount"])
    assert Decimal(proposal.doc["impact_net"]) == (
        (Decimal("1.5") - Decimal(entry["hours"])) * rate
    ).quantize(Decimal("0.01"))
    with hub.uow() as uow:
        decide_proposal(uow, hub.ports, proposal.id, approve=True, by="controller", reason="client confirmed")
        uow.commit()
    drain(hub)
    check = billing(hub)
    assert check.double_billed_entries == 0 and check.lines_rate_mismatch == []
    assert check.invoices_total_mismatch == []
    with hub.uow() as uow:
        assert uow.time_entries.get(entry["id"]).entry.hours == Decimal("1.5")
        kinds = sorted(inv.kind for inv, _ in uow.invoices.iter_all())
    assert kinds == ["credit_note", "invoice", "invoice"]


def test_a_transient_failure_past_the_retry_budget_is_dead_lettered(hub: App) -> None:
    class Down(InMemoryErp):
        def post_invoice(self, invoice, idempotency_key):  # type: ignore[no-untyped-def]
            from handoffs.engine.errors import TransientError

            self.calls.append(idempotency_key)
            raise TransientError("erp answered 503")

    down = Down()
    hub.ports.erps["erp"] = down
    load(hub, firm_lines(entries=20, projects=1))
    drain(hub)
    with hub.uow() as uow:
        [problem] = uow.exceptions.list()
    assert problem.category == "retries_exhausted" and problem.attempts == 4
    assert len(down.calls) == 4
    # After the outage, an operator's retry posts it once.
    hub.ports.erps["erp"] = healthy = InMemoryErp()
    with hub.uow() as uow:
        uow.queue.requeue(problem.work_id, (datetime.now(UTC) - timedelta(seconds=1)).timestamp())
        uow.commit()
    with hub.uow() as uow:
        uow.exceptions.set_state(problem.id, "retrying", "ERP is back")
        uow.commit()
    drain(hub)
    assert len(healthy.records) == 1
    with hub.uow() as uow:
        assert uow.exceptions.get(problem.id).state == "resolved"


def test_each_event_time_is_when_that_event_happened_not_when_its_cause_did(hub: App) -> None:
    """CloudEvents' ``time``: an invoice generated and posted now says now, not the approval's time."""
    from sqlalchemy import select

    from handoffs.engine.relay import cloudevent
    from handoffs.store.serde import message_from_json
    from handoffs.store.tables import messages

    load(hub, firm_lines(entries=20, projects=1))
    started = hub.ports.clock.now()
    drain(hub)
    with hub.uow() as uow:
        rows = uow.connection.execute(select(messages.c.type, messages.c.payload)).all()
    events = [message_from_json(type_, payload) for type_, payload in rows]
    times = {type(e).__name__: datetime.fromisoformat(cloudevent(e)["time"]) for e in events}
    approvals = [e.occurred_at for e in events if type(e).__name__ == "TimeEntryApproved"]
    assert approvals and max(approvals) < started  # the source's own approval times
    for name in ("GenerateInvoice", "InvoiceGenerated", "PostInvoice", "InvoicePosted"):
        assert times[name] >= started, name
