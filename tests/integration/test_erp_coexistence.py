"""Coexistence during an ERP migration: routing to two ERPs, each its own delivery; the
shadow comparison of what each accepted. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from handoffs.bootstrap import App, build
from handoffs.connectors.fake.erp import InMemoryErp
from handoffs.domain.billing import Invoice
from handoffs.domain.routing import Route, Routing
from handoffs.engine.errors import TerminalError
from handoffs.flows.journal_posting import request_journal_postings
from handoffs.flows.ports import ExternalRef
from handoffs.reconcile.coexistence import compare_erps
from handoffs.settings import Settings
from tests.support.flow import drain, firm_lines, load


class RefusingErp(InMemoryErp):
    """A new ERP that is not ready yet: it refuses every posting."""

    def post_invoice(self, invoice: Invoice, idempotency_key: str) -> ExternalRef:
        self.calls.append(idempotency_key)
        raise TerminalError(f"{self.system} refused invoice {invoice.id}: subsidiary not set up")


def _hub(database_url: str, erps: dict[str, InMemoryErp], routes: tuple[Route, ...]) -> App:
    settings = Settings(database_url=database_url, erp="none", backoff_base=0.01, max_attempts=2)
    app = build(settings, erps=dict(erps))
    app.ports.routing = Routing(routes, legacy="legacy", new="new")
    return app


@pytest.fixture
def erps() -> dict[str, InMemoryErp]:
    return {"legacy": InMemoryErp("legacy"), "new": InMemoryErp("new"), "other": InMemoryErp("other")}


@pytest.fixture
def routed(database_url: str, erps: dict[str, InMemoryErp]) -> Iterator[App]:
    app = _hub(database_url, erps, (Route("invoice", ("legacy", "new")),))
    yield app
    app.close()


def test_each_invoice_goes_to_both_routed_erps_once_and_the_comparison_is_clean(
    routed: App, erps: dict[str, InMemoryErp]
) -> None:
    load(routed, firm_lines(entries=200, projects=3))
    drain(routed)
    legacy, new, other = erps["legacy"], erps["new"], erps["other"]
    with routed.uow() as uow:
        invoices = [i.id for i, _ in uow.invoices.iter_all()]
        assert uow.deliveries.count_by_status() == {"confirmed": 2 * len(invoices)}
        report = compare_erps(uow.connection, routed.erps, "legacy", "new")
    assert len(invoices) == 3
    assert sorted(i.id for i in legacy.records.values()) == sorted(invoices)
    assert sorted(i.id for i in new.records.values()) == sorted(invoices)
    assert len(legacy.calls) == len(new.calls) == 3 and other.calls == []  # routed, not broadcast
    assert report.invoices == 3 and report.held == {"legacy": 3, "new": 3}
    assert report.differences == []
    assert report.attributes == ["presence", "currency", "lines", "net", "tax", "total"]


def test_a_refusing_new_erp_neither_blocks_nor_doubles_the_legacy_posting(database_url: str) -> None:
    erps = {"legacy": InMemoryErp("legacy"), "new": RefusingErp("new")}
    app = _hub(database_url, erps, (Route("invoice", ("legacy", "new")),))
    try:
        load(app, firm_lines(entries=120, projects=2))
        drain(app)
        with app.uow() as uow:
            assert uow.deliveries.count_by_status() == {"confirmed": 2, "failed": 2}
            report = compare_erps(uow.connection, app.erps, "legacy", "new")
    finally:
        app.close()
    assert len(erps["legacy"].calls) == 2 and len(erps["legacy"].records) == 2
    assert len(erps["new"].calls) == 2  # terminal: tried once each, dead-lettered
    assert [(d.kind, d.new) for d in report.differences] == [("missing", None), ("missing", None)]
    assert all(d.legacy for d in report.differences)


def test_a_route_by_legal_entity_sends_other_entities_to_every_erp(
    database_url: str, erps: dict[str, InMemoryErp]
) -> None:
    app = _hub(database_url, erps, (Route("invoice", ("new",), legal_entity="LE-UK"),))
    try:
        load(app, firm_lines(entries=60, projects=1))  # the generated firm bills from LE-US
        drain(app)
    finally:
        app.close()
    assert [len(e.records) for e in erps.values()] == [1, 1, 1]


def test_a_changed_amount_on_one_side_is_a_difference(routed: App, erps: dict[str, InMemoryErp]) -> None:
    load(routed, firm_lines(entries=60, projects=1))
    drain(routed)
    new = erps["new"]
    [(key, invoice)] = new.records.items()
    line = invoice.lines[0]
    doubled = dataclasses.replace(line, amount=line.amount + line.amount)  # the new ERP holds it twice over
    changed = dataclasses.replace(
        invoice,
        lines=(doubled, *invoice.lines[1:]),
        subtotal=invoice.subtotal + line.amount,
        total=invoice.total + line.amount,
    )
    new.records[key] = changed
    with routed.uow() as uow:
        report = compare_erps(uow.connection, routed.erps, "legacy", "new")
    kinds = sorted((d.kind, d.item) for d in report.differences)
    assert kinds == [("line", line.id), ("net", None), ("total", None)]
    [net] = [d for d in report.differences if d.kind == "net"]
    assert net.legacy == str(invoice.subtotal.amount) and net.new == str(changed.subtotal.amount)


def _post_journals(hub: App) -> int:
    with hub.uow() as uow:
        periods = sorted({e.period for e in uow.finance.journal_entries()})
        queued = sum(request_journal_postings(uow, hub.ports, period) for period in periods)
        uow.commit()
    drain(hub)
    return queued


def test_journals_go_only_where_routed_and_compare_by_account(database_url: str) -> None:
    erps = {"legacy": InMemoryErp("legacy"), "new": InMemoryErp("new")}
    app = _hub(database_url, erps, (Route("invoice", ("legacy", "new")),))
    try:
        load(app, firm_lines(entries=120, projects=2))
        drain(app)
        assert _post_journals(app) == 0  # no route for journals: they stay in the hub
        app.ports.routing = Routing(
            (Route("invoice", ("legacy", "new")), Route("journal", ("legacy", "new"))), "legacy", "new"
        )
        queued = _post_journals(app)
        with app.uow() as uow:
            entries = uow.finance.journal_entries()
            sent = [e for e in entries if e.source is None or e.source.type != "invoice"]
            statuses = uow.deliveries.count_by_status()
            clean = compare_erps(uow.connection, app.erps, "legacy", "new")
        assert queued == 2 * len(sent) > 0 and statuses == {"confirmed": 2 * 2 + queued}
        assert {e.id for e in erps["new"].journals.values()} == {e.id for e in sent}  # never the invoice's
        assert clean.journals == len(sent) and clean.differences == []
        assert _post_journals(app) == 0  # asked again: nothing is sent twice

        key, dropped = next(iter(erps["new"].journals.items()))
        del erps["new"].journals[key]
        with app.uow() as uow:
            report = compare_erps(uow.connection, app.erps, "legacy", "new")
        assert [(d.document, d.document_id, d.kind, d.new) for d in report.differences] == [
            ("journal", dropped.id, "missing", None)
        ]
    finally:
        app.close()
