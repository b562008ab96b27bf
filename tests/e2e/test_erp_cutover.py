"""``handoffs erp cutover``: refused while the shadow comparison differs, then a switch at a
period boundary in one audited transaction, which routing follows (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from handoffs.bootstrap import build
from handoffs.cli.main import app
from handoffs.config.systems import load_systems
from handoffs.domain.billing import Invoice
from handoffs.domain.routing import Cutover
from handoffs.flows.ports import erp_targets
from handoffs.settings import Settings
from handoffs.store.tables import audit_log, erp_cutovers
from tests.e2e.test_erp_compare import routed_to_both


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> tuple[dict[str, str], Path, list[Invoice]]:
    invoices = routed_to_both(database_url, tmp_path, stored=True)  # invoiced, sent to both ledgers
    return {"HANDOFFS_DATABASE_URL": database_url, "COLUMNS": "200"}, tmp_path / "handoffs.yaml", invoices


def _cutover(env: dict[str, str], config: Path, at: str, *extra: str):  # type: ignore[no-untyped-def]
    args = ["erp", "cutover", "--from", "old_ledger", "--to", "new_ledger", "--at", at, "--file", str(config)]
    return CliRunner().invoke(app, [*args, *extra], env=env)


def _edit_new_ledger(config: Path, delta: Decimal) -> None:
    extract = config.parent / "new" / "extract" / "gl_detail.csv"
    rows = list(csv.DictReader(extract.open(encoding="utf-8")))
    rows[0]["debit"] = str(Decimal(rows[0]["debit"]) + delta)
    rows[1]["credit"] = str(Decimal(rows[1]["credit"]) + delta)
    with extract.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_cutover_waits_for_a_clean_comparison_then_switches_routing_at_the_period(
    setup: tuple[dict[str, str], Path, list[Invoice]], database_url: str
) -> None:
    env, config, invoices = setup
    period = max(i.period for i in invoices)
    after = f"{int(period[:4]) + 1}-01"  # a period boundary after everything posted so far
    _edit_new_ledger(config, Decimal(10))
    refused = _cutover(env, config, after)
    assert refused.exit_code == 1
    assert "Not cut over" in refused.stderr and "4 difference(s)" in refused.stderr

    _edit_new_ledger(config, Decimal(-10))  # the new ledger corrected: both agree again
    early = _cutover(env, config, "2000-01", "--json")  # in the middle of what the old one holds
    assert early.exit_code == 1
    assert "already went to old_ledger" in orjson.loads(early.stdout)["problems"][0]
    assert _cutover(env, config, after, "--to", "nope").exit_code == 2

    done = _cutover(env, config, after, "--json", "--by", "controller")
    assert done.exit_code == 0, done.stderr
    assert orjson.loads(done.stdout)["ok"] is True
    again = _cutover(env, config, after)
    assert again.exit_code == 1 and f"already cut over to new_ledger at {after}" in again.stderr
    compare = CliRunner().invoke(app, ["erp", "compare", "--file", str(config), "--json"], env=env)
    assert compare.exit_code == 0 and orjson.loads(compare.stdout)["cutover"] == {
        "to": "new_ledger",
        "at": after,
    }

    hub = build(Settings(database_url=database_url, erp="none"), systems=load_systems(config))
    try:
        with hub.uow() as uow:
            rows = uow.connection.execute(select(erp_cutovers)).all()
            assert [(r.from_system, r.to_system, r.at_period, r.actor) for r in rows] == [
                ("old_ledger", "new_ledger", after, "cli:controller")
            ]
            trail = uow.connection.execute(
                select(audit_log.c.action, audit_log.c.target).where(audit_log.c.action == "cli.erp_cutover")
            ).all()
            assert [tuple(r) for r in trail] == [
                ("cli.erp_cutover", "erp:old_ledger")
            ]  # the refusals wrote none

            def targets(when: str) -> list[str]:
                return erp_targets(hub.ports, "invoice", lambda: None, uow=uow, period=when)

            both = ["new_ledger", "old_ledger"]
            assert targets(period) == both  # coexistence, as before
            assert targets(after) == both  # the shadow period: still compared
            assert targets(f"{int(after[:4])}-02") == ["new_ledger"]  # then the new ledger alone
    finally:
        hub.close()


def test_a_cutover_keeps_earlier_periods_shadows_one_period_then_replaces_the_old_erp() -> None:
    cutover = Cutover("legacy_gl", "netsuite", "2026-04")
    assert cutover.apply(["legacy_gl", "netsuite"], "2026-03") == ["legacy_gl", "netsuite"]
    assert cutover.apply(["legacy_gl"], "2026-04") == ["legacy_gl", "netsuite"]
    assert cutover.apply(["legacy_gl", "odoo"], "2026-05") == ["netsuite", "odoo"]
    assert cutover.apply(["odoo"], "2026-05") == ["odoo"]  # a route that never named the old ERP
