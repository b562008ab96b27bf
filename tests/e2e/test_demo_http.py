"""The main job end to end: ``handoffs demo --json`` over HTTP against a small simulated firm."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from handoffs.cli.main import app

KEYS = {
    "records_pulled",
    "invoices_posted",
    "straight_through_rate",
    "exceptions_by_category",
    "lost_records",
    "double_billed_entries",
    "duration_s",
}


def test_demo_over_http_loses_nothing_and_bills_nothing_twice(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--seed", "7", "--size", "small", "--out-dir", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # logs go to standard error
    assert set(summary) >= KEYS
    assert summary["lost_records"] == 0 and summary["double_billed_entries"] == 0
    assert summary["unexplained_exceptions"] == 0
    assert set(summary["records_pulled"]) == {"workday", "salesforce", "harvest", "expenses"}
    assert summary["invoices_posted"] == 3 * summary["invoices_generated"] > 0  # NetSuite, Odoo, legacy GL
    assert summary["re_pull_new_records"] == 0
    # The straight-through rate is the one analytics prints, over the demo's own store.
    from handoffs.analytics import compute
    from handoffs.analytics.flow import straight_through_overall
    from handoffs.store.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'handoffs.db'}")
    with engine.connect() as conn:
        records, straight, rate = straight_through_overall(
            compute(conn, names=["straight_through"])["straight_through"].rows
        )
    engine.dispose()
    assert summary["straight_through_records"] == {"records": records, "straight_through": straight} != {}
    assert rate is not None and summary["straight_through_rate"] == float(rate)
    assert (tmp_path / "handoffs.yaml").exists()
    deals = summary["opportunity_to_project"]  # every won deal through the flow, matched, sent on
    assert deals["opportunities_won"] == deals["projects_approved"] > 0
    assert deals["contracts_confirmed_by_erp"] == dict.fromkeys(
        ("netsuite", "odoo"), deals["opportunities_won"]
    )
    comparison = summary["erp_comparison"]  # the migration's shadow comparison of a clean run
    assert (comparison["legacy"], comparison["new"]) == ("legacy_gl", "netsuite")
    assert comparison["invoices"] == summary["invoices_generated"] and comparison["differences"] == []
    assert comparison["compared"] == ["presence", "currency", "net", "tax", "total"]
