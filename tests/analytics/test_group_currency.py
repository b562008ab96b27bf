"""#16 item 10: money products consolidated into a group currency, per entity and in total.

The worked example of docs/billing-and-revenue.md ("Group reporting currency"), run through
``handoffs load``, ``handoffs worker`` and ``handoffs analytics group`` / ``export``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from handoffs.cli.main import app

FIXTURE = Path(__file__).parents[1] / "fixtures" / "analytics" / "group-currency.jsonl"


def _run(url: str, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"HANDOFFS_DATABASE_URL": url, "HANDOFFS_ERP": "none"})
    assert result.exit_code == 0, result.output
    return result.output


def test_group_currency_worked_example(database_url: str, tmp_path: Path) -> None:
    _run(database_url, "load", str(FIXTURE))
    _run(database_url, "worker", "--until-idle")
    out = json.loads(_run(database_url, "analytics", "group", "--currency", "USD", "--json"))
    # March's EUR->USD average: (15 days x 1.0800 + 16 days x 1.0900) / 31; closing: 1.0900.
    assert out["rates"] == [
        {
            "period": "2026-03",
            "currency": "EUR",
            "group_currency": "USD",
            "average_rate": "1.0851612903",
            "closing_rate": "1.0900000000",
        }
    ]
    rows = {r["legal_entity_id"]: r for r in out["rows"]}
    fr, us, total = rows["LE-FR"], rows["LE-US"], rows["ALL"]
    # LE-FR: revenue 6,666.88 EUR and cost 3,735.00 EUR at the average rate; receivables
    # 8,000.26 EUR at the closing rate.
    assert (fr["revenue"], fr["cost"], fr["margin"], fr["margin_pct"]) == (
        "7234.64",
        "4053.08",
        "3181.56",
        "0.4398",
    )
    assert (fr["receivables"], fr["dso_days"], fr["wip"]) == ("8720.28", "90.00", "0.00")
    assert (us["revenue"], us["cost"], us["margin"], us["receivables"]) == (
        "2800.00",
        "1260.00",
        "1540.00",
        "2800.00",
    )
    assert (total["revenue"], total["cost"], total["margin"], total["margin_pct"]) == (
        "10034.64",
        "5313.08",
        "4721.56",
        "0.4705",
    )
    assert (total["receivables"], total["dso_days"]) == ("11520.28", "90.00")
    # The entity's own figures are untouched: still per currency, not converted.
    _run(database_url, "analytics", "export", "--out", str(tmp_path / "out"), "--group-currency", "USD")
    with (tmp_path / "out" / "project_margin.csv").open() as f:
        own = {r["legal_entity_id"]: r for r in csv.DictReader(f)}
    assert (own["LE-FR"]["currency"], own["LE-FR"]["revenue"]) == ("EUR", "6666.88")
    with (tmp_path / "out" / "project_margin_group.csv").open() as f:
        grouped = {r["legal_entity_id"]: r for r in csv.DictReader(f)}
    assert grouped["ALL"]["revenue"] == "10034.64" and grouped["ALL"]["group_currency"] == "USD"


def test_a_currency_without_a_rate_is_named_not_guessed(database_url: str, tmp_path: Path) -> None:
    lines = [x for x in FIXTURE.read_text().splitlines() if '"fx_rate"' not in x]
    path = tmp_path / "no-rates.jsonl"
    path.write_text("\n".join(lines) + "\n")
    _run(database_url, "load", str(path))
    _run(database_url, "worker", "--until-idle")
    out = json.loads(_run(database_url, "analytics", "group", "--currency", "USD", "--json"))
    rows = {r["legal_entity_id"]: r for r in out["rows"]}
    assert rows["LE-FR"]["revenue"] is None and rows["LE-FR"]["missing_rates"] == "EUR"
    assert rows["ALL"]["revenue"] is None and rows["ALL"]["missing_rates"] == "EUR"
    assert rows["LE-US"]["revenue"] == "2800.00" and "missing_rates" not in rows["LE-US"]


def test_a_bad_group_currency_is_a_usage_error(database_url: str) -> None:
    result = CliRunner().invoke(
        app, ["analytics", "group", "--currency", "EURO"], env={"HANDOFFS_DATABASE_URL": database_url}
    )
    assert result.exit_code == 2 and "EURO" in result.output
