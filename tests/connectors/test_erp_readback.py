"""Reading back what each ERP accepted, through its connector, and the migration's shadow
comparison over the simulated NetSuite and legacy GL (hub on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handoffs.bootstrap import App
from handoffs.config.systems import SystemsConfigError, parse_systems
from handoffs.connectors.csvdrop import LegacyGlConfig, LegacyGlErp
from handoffs.domain.billing import Invoice, JournalEntry, JournalLine
from handoffs.domain.money import Money
from handoffs.reconcile.coexistence import compare_erps
from handoffs.simulator.firm import Firm
from handoffs.simulator.systems.legacy_gl import LegacyGl
from tests.connectors import test_erps
from tests.connectors.support import firm_invoice


@pytest.fixture
def legacy_gl(seeds: Any, tmp_path: Path) -> Any:
    sim = LegacyGl(seeds["legacy_gl"], tmp_path / "gl", seed=5)
    sim.start_polling(0.02)
    yield sim, LegacyGlErp("legacy_gl", LegacyGlConfig(sim.inbox, sim.outbox, wait_seconds=3, poll=0.01))
    sim.stop()


def _sent(hub: App, invoice: Invoice, systems: tuple[str, ...], confirmed: dict[str, str]) -> None:
    with hub.uow() as uow:
        for system in systems:
            key = f"{system}:invoice:{invoice.id}"
            uow.deliveries.ensure(key, system, "post_invoice", "invoice", invoice.id)
            if system in confirmed:
                uow.deliveries.confirm(key, confirmed[system])
        uow.commit()


def test_the_comparison_is_clean_then_finds_every_injected_difference(
    any_db_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path, legacy_gl: Any
) -> None:
    ns_sim, netsuite = test_erps.TestNetSuite().start(seeds, serve, any_db_hub, tmp_path)
    _, gl = legacy_gl
    erps = {"netsuite": netsuite, "legacy_gl": gl}
    invoices = [firm_invoice(firm, "le-uk"), firm_invoice(firm, "le-us")]
    for invoice in invoices:
        refs = {name: erp.post_invoice(invoice, f"{name}:invoice:{invoice.id}") for name, erp in erps.items()}
        _sent(any_db_hub, invoice, tuple(erps), {n: r.external_id for n, r in refs.items()})
    with any_db_hub.uow() as uow:
        clean = compare_erps(uow.connection, erps, "legacy_gl", "netsuite")
    assert clean.invoices == 2 and clean.held == {"legacy_gl": 2, "netsuite": 2}
    # NetSuite's read-back (lines expanded) holds its own subtotal, tax and total as well.
    assert clean.attributes == ["presence", "currency", "net", "tax", "total"] and clean.differences == []

    uk, us = invoices
    record = next(r for r in ns_sim.records["invoice"].values() if r["externalId"] == uk.id)
    eur = next(c["id"] for c in ns_sim.records["currency"].values() if c["symbol"] == "EUR")
    record["currency"] = {"id": eur}  # NetSuite holds references by internal id
    record["subtotal"] = uk.subtotal.amount + 1  # the figure NetSuite itself reports
    third = dataclasses.replace(us, id=f"{us.id}-2")
    ref = gl.post_invoice(third, f"legacy_gl:invoice:{third.id}")  # NetSuite refused it, say
    _sent(any_db_hub, third, tuple(erps), {"legacy_gl": ref.external_id})
    with any_db_hub.uow() as uow:
        report = compare_erps(uow.connection, erps, "legacy_gl", "netsuite")
    found = sorted(
        (d.document_id, d.kind, d.legacy, amount(d.new) if d.kind == "net" else d.new)
        for d in report.differences
    )
    assert found == sorted(
        [
            (uk.id, "currency", uk.currency, "EUR"),
            (uk.id, "net", str(uk.subtotal.amount), uk.subtotal.amount + 1),
            (third.id, "missing", ref.external_id, None),
        ]
    )
    assert report.as_dict()["differences_by_kind"] == {"currency": 1, "missing": 1, "net": 1}


def test_the_legacy_gl_reads_back_accounts_and_amounts(firm: Firm, legacy_gl: Any) -> None:
    _, gl = legacy_gl
    invoice = firm_invoice(firm, "le-uk")
    gl.post_invoice(invoice, "k")
    held = gl.read_invoices([invoice.id, "INV-never-sent"])
    assert list(held) == [invoice.id]
    posted = held[invoice.id]
    assert (posted.currency, posted.net, posted.tax, posted.total) == (
        invoice.currency,
        invoice.subtotal.amount,
        invoice.tax.amount,
        invoice.total.amount,
    )
    assert sum(posted.accounts.values()) == 0  # a balanced journal  # type: ignore[union-attr]


def test_odoo_reads_back_posted_invoices_by_ref(
    firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
) -> None:
    _, odoo = test_erps.TestOdooSession().start(seeds, serve, firm_hub, tmp_path)
    invoice = firm_invoice(firm, "le-uk")
    ref = odoo.post_invoice(invoice, "k")
    held = odoo.read_invoices([invoice.id, "INV-never-sent"])
    assert list(held) == [invoice.id] and held[invoice.id].external_id == ref.external_id
    assert held[invoice.id].net == invoice.subtotal.amount


ROUTED = """\
version: 1
systems:
  netsuite: {role: erp, connector: netsuite, base_url: "http://ns", credentials: {token: "value:t"}}
  legacy_gl: {role: erp, connector: legacy_gl, folder: gl}
  harvest: {role: time, connector: harvest, base_url: "http://hv"}
routing:
  - {object: invoice, legal_entity: LE-UK, to: [legacy_gl]}
  - {object: invoice, to: [legacy_gl, netsuite]}
migration: {legacy: legacy_gl, new: netsuite}
"""


def test_routing_and_migration_are_read_from_handoffs_yaml() -> None:
    routing = parse_systems(ROUTED).routing
    assert (routing.legacy, routing.new) == ("legacy_gl", "netsuite")
    assert routing.targets("invoice", "LE-UK", ["netsuite", "legacy_gl"]) == ["legacy_gl"]
    assert routing.targets("invoice", "LE-US", ["netsuite", "legacy_gl"]) == ["legacy_gl", "netsuite"]
    assert routing.targets("contract", "LE-US", ["netsuite", "legacy_gl"]) == ["legacy_gl", "netsuite"]


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        ("to: [legacy_gl, netsuite]}", 8, "to must list"),
        ("to: [legacy_gl, harvest]", 8, "'harvest' is not a system with role erp"),
        ("object: invoice, to: [legacy_gl, n", 8, "object must be one of"),
        ("{legacy: legacy_gl, new: netsuite}", 9, "migration must be"),
        ("migration:", 9, "unknown key"),
    ],
)
def test_a_bad_route_names_its_line(change: str, line: int, message: str) -> None:
    bad = {
        "to: [legacy_gl, netsuite]}": ROUTED.replace("to: [legacy_gl, netsuite]}", "to: []}"),
        "to: [legacy_gl, harvest]": ROUTED.replace("to: [legacy_gl, netsuite]", "to: [legacy_gl, harvest]"),
        "object: invoice, to: [legacy_gl, n": ROUTED.replace(
            "object: invoice, to: [legacy_gl, n", "object: payment, to: [legacy_gl, n"
        ),
        "{legacy: legacy_gl, new: netsuite}": ROUTED.replace(
            "{legacy: legacy_gl, new: netsuite}", "{legacy: legacy_gl, new: legacy_gl, old: x}"
        ),
        "migration:": ROUTED.replace("migration:", "migrate:"),
    }[change]
    with pytest.raises(SystemsConfigError, match=message) as caught:
        parse_systems(bad)
    assert caught.value.line == line


def amount(text: str | None) -> Decimal | None:
    """An amount as each side wrote it (NetSuite echoes 1500.0 for 1500.00)."""
    return None if text is None else Decimal(text)


def _journal(amount: str) -> JournalEntry:
    def usd(value: str) -> Money:
        return Money(Decimal(value), "USD")

    return JournalEntry(
        id="JE-REV-1",
        legal_entity_id="le-us",
        entry_date=date(2025, 3, 31),
        period="2025-03",
        currency="USD",
        lines=(
            JournalLine(account="1200", debit=usd(amount), credit=usd("0"), memo="unbilled revenue"),
            JournalLine(account="4000", debit=usd("0"), credit=usd(amount), memo="revenue"),
        ),
        memo="revenue recognised",
    )


def test_a_journal_reaches_netsuite_and_the_legacy_gl_and_compares_by_account(
    any_db_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path, legacy_gl: Any
) -> None:
    ns_sim, netsuite = test_erps.TestNetSuite().start(seeds, serve, any_db_hub, tmp_path)
    _, gl = legacy_gl
    entry = _journal("1500.00")
    refs = {"netsuite": netsuite.post_journal(entry, "k"), "legacy_gl": gl.post_journal(entry, "k")}
    assert gl.post_journal(entry, "k") == refs["legacy_gl"]  # sent again: "already posted" confirms it
    with any_db_hub.uow() as uow:
        for system, ref in refs.items():
            key = f"{system}:journal:{entry.id}"
            uow.deliveries.ensure(key, system, "post_journal", "journal_entry", entry.id)
            uow.deliveries.confirm(key, ref.external_id)
        uow.commit()
    erps = {"netsuite": netsuite, "legacy_gl": gl}
    held = gl.read_journals([entry.id])[entry.id]
    assert held.accounts == {"1200": Decimal("1500.00"), "4000": Decimal("-1500.00")}
    with any_db_hub.uow() as uow:
        clean = compare_erps(uow.connection, erps, "legacy_gl", "netsuite")
    assert clean.journals == 1 and clean.differences == []

    [record] = ns_sim.records["journalEntry"].values()
    other = next(
        a["id"]
        for a in ns_sim.records["account"].values()
        if a["acctNumber"] == "4100" and a["subsidiary"] == record["subsidiary"]
    )
    record["line"]["items"][1]["account"] = {"id": other}  # the new ledger booked other revenue
    with any_db_hub.uow() as uow:
        report = compare_erps(uow.connection, erps, "legacy_gl", "netsuite")
    assert sorted(
        (d.document, d.kind, d.item, amount(d.legacy), amount(d.new)) for d in report.differences
    ) == [
        ("journal", "account", "4000", Decimal(-1500), None),
        ("journal", "account", "4100", None, Decimal(-1500)),
    ]
