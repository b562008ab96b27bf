"""The exceptions queue: money at risk, days to close, priority, groups, and replay with a preview."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import orjson
from sqlalchemy import select

from handoffs.bootstrap import App
from handoffs.engine.replay import replay_exception
from handoffs.flows.triage import assess, queue, replay_preview
from handoffs.store.tables import audit_log
from tests.support.flow import drain, firm_lines, load

TODAY = date(2026, 2, 2)  # LE-US closes January on its 5th working day: Friday 6 February


def _astronaut(hub: App) -> list[str]:
    """Two projects; one entry of P-001 has a role no rate card prices, so pricing dead-letters it."""
    lines = firm_lines(entries=40, projects=2)
    bad = orjson.loads(next(x for x in lines if '"TE-00000001"' in x))
    bad["role"] = "astronaut"
    load(hub, [orjson.dumps(bad).decode() if '"TE-00000001"' in x else x for x in lines])
    drain(hub)
    return lines


def test_money_at_risk_days_to_close_and_priority(hub: App) -> None:
    _astronaut(hub)
    with hub.uow() as uow:
        [dead] = uow.exceptions.list(category="validation")
        invoice = next(inv for inv, _ in uow.invoices.iter_all() if inv.project_id == "P-002")
        entry = uow.time_entries.get("TE-00000002")
        assert entry is not None
        posting = uow.exceptions.add(
            category="delivery_failed",
            source="t",
            reason="ERP refused",
            raw="{}",
            priority=2,
            object_type="invoice",
            object_id=invoice.id,
        )
        held = uow.exceptions.add(
            category="validation",
            source="t",
            reason="x",
            raw="{}",
            object_type="time_entry",
            object_id="TE-00000002",
        )
        uow.commit()
    with hub.uow() as uow:
        astronaut = assess(uow, dead.id, TODAY)
        on_invoice = assess(uow, int(posting or 0), TODAY)
        on_entry = assess(uow, int(held or 0), TODAY)
    assert astronaut is not None and on_invoice is not None and on_entry is not None
    # No rate for an astronaut: nothing to price, so the category's priority stands.
    assert astronaut.project_id == "P-001" and astronaut.money_at_risk is None
    assert astronaut.legal_entity_id == "LE-US" and astronaut.days_to_close == 4
    assert astronaut.cutoff == date(2026, 2, 6) and astronaut.priority == dead.priority
    assert on_invoice.money_at_risk is not None
    assert on_invoice.money_at_risk.amount == invoice.total.amount
    expected = 1 if invoice.total.amount / 4 >= 1000 else 2
    assert (on_invoice.invoice_id, on_invoice.customer_id, on_invoice.priority) == (
        invoice.id,
        invoice.customer_id,
        expected,
    )
    assert on_entry.money_at_risk is not None and on_entry.money_at_risk.currency == "USD"
    with hub.uow() as uow:
        contract = uow.objects.get("contract", "K-002")
        role = uow.objects.get("assignment", entry.entry.assignment_id).role
        rate = contract.rate_for(role, entry.entry.work_date)[1].amount
    assert on_entry.money_at_risk.amount == (entry.entry.hours * rate).quantize(Decimal("0.01"))
    with hub.uow() as uow:  # after the close, the cutoff is February's
        later = assess(uow, int(held or 0), date(2026, 2, 9))
    assert later is not None and later.cutoff == date(2026, 3, 6) and later.days_to_close == 25


def test_the_queue_sorts_by_priority_and_groups_by_business_object(hub: App) -> None:
    _astronaut(hub)
    with hub.uow() as uow:
        invoices = [inv for inv, _ in uow.invoices.iter_all()]
        for inv in invoices:
            uow.exceptions.add(
                category="delivery_failed",
                source="t",
                reason=f"ERP refused {inv.id}",
                raw="{}",
                priority=2,
                object_type="invoice",
                object_id=inv.id,
            )
        uow.commit()
    with hub.uow() as uow:
        q = queue(uow, today=TODAY, group_by="project")
        by_message = queue(uow, today=TODAY, group_by="message", sort="id")
        by_customer = queue(uow, state="open", group_by="customer")
    assert len(q.items) == 1 + len(invoices)
    ranks = [(i.priority, -(i.money_at_risk.amount if i.money_at_risk else 0)) for i in q.items]
    assert ranks == sorted(ranks)
    groups = {g.key: g for g in q.groups}
    assert groups["P-001"].count == 2 and groups["P-002"].count == 1
    p2 = next(inv for inv in invoices if inv.project_id == "P-002")
    assert groups["P-002"].money_at_risk == {"USD": p2.total.amount}
    assert [i.id for i in by_message.items] == sorted(i.id for i in q.items)
    refused = next(g for g in by_message.groups if g.key.startswith("delivery_failed"))
    assert refused.count == len(invoices)  # the invoice ids are blanked: one message
    assert {g.key for g in by_customer.groups} == {"C-001", "C-002"}


def test_replay_preview_shows_the_money_impact_and_the_replay_matches_it(hub: App) -> None:
    lines = _astronaut(hub)
    contract = orjson.loads(next(x for x in lines if '"type":"contract","id":"K-001"' in x))
    for version in contract["rate_card"]:
        version["rates"]["astronaut"] = "300.00"
    contract["source_version"] = 99
    load(hub, [orjson.dumps(contract).decode()])
    drain(hub)  # (the amendment's own repricing fails on the entry too: a second exception)
    with hub.uow() as uow:
        [dead] = [x for x in uow.exceptions.list() if x.consumer == "time-to-invoice.price"]
        invoices_before = {inv.id for inv, _ in uow.invoices.iter_all()}
        hours = uow.time_entries.get("TE-00000001").entry.hours  # type: ignore[union-attr]
    with hub.uow() as uow:
        preview = replay_preview(uow, dead.id, registry=hub.registry, ports=hub.ports)
    assert preview.failure is None and preview.runs == 1
    assert preview.entries_priced == 1 and preview.priced_value == {"USD": hours * Decimal("300.00")}
    [new] = [i for i in preview.invoices if i.change == "new"]
    assert new.project_id == "P-001" and [line["unit_price"] for line in new.lines] == ["300.00"]
    assert preview.entries_billed == 1 and preview.postings == [f"erp: invoice {new.id}"]
    with hub.uow() as uow:  # nothing was kept
        assert {inv.id for inv, _ in uow.invoices.iter_all()} == invoices_before
        assert uow.time_entries.get("TE-00000001").billing_state == "unpriced"  # type: ignore[union-attr]
        result = replay_exception(
            uow, dead.id, subscriptions=hub.registry.subscriptions, reason="rate added", actor="cli:ana"
        )
        uow.commit()
    assert result["queued"] == 1
    drain(hub)
    with hub.uow() as uow:
        made = uow.invoices.get(new.id)
        assert made is not None and made.total.amount == new.total
        assert uow.exceptions.get(dead.id).state == "resolved"  # type: ignore[union-attr]
        audit = uow.connection.execute(select(audit_log.c.action, audit_log.c.actor)).all()
    assert ("exceptions.replay", "cli:ana") in [tuple(a) for a in audit]
