"""#16 item 10: analytics consolidated into a group reporting currency
(docs/billing-and-revenue.md, "Group reporting currency"), through the commands."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.integration.test_period_close import cli_, load


def test_money_products_consolidate_per_entity_and_in_total(database_url: str, tmp_path: Path) -> None:
    url = database_url
    load(url, tmp_path, "period-close/march.jsonl")
    load(url, tmp_path, "group/us.jsonl")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-04-01")
    out = tmp_path / "out"
    cli_(url, "analytics", "export", "--out", str(out), "--group-currency", "USD")

    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader((out / f"{name}.csv").open(encoding="utf-8")))

    margin = [
        (
            r["legal_entity_id"],
            r["currency"],
            r["hours"],
            r["revenue"],
            r["cost"],
            r["margin"],
            r["margin_pct"],
        )
        for r in rows("group_project_margin")
        if r["period"] == "2026-03"
    ]
    assert margin == [
        ("LE-FR", "USD", "8.00", "1302.00", "868.00", "434.00", "0.3333"),
        ("LE-US", "USD", "5.00", "1000.00", "450.00", "550.00", "0.5500"),
        ("TOTAL", "USD", "13.00", "2302.00", "1318.00", "984.00", "0.4275"),
    ]
    wip = [
        (r["legal_entity_id"], r["recognised_in_period"], r["billed_in_period"], r["wip"])
        for r in rows("group_wip")
        if r["period"] == "2026-03"
    ]
    assert wip == [
        ("LE-FR", "1302.00", "1302.00", "0.00"),
        ("LE-US", "1000.00", "1000.00", "0.00"),
        ("TOTAL", "2302.00", "2302.00", "0.00"),
    ]
    assert "must be an ISO 4217 code" in cli_(
        url, "analytics", "export", "--out", str(out), "--group-currency", "usd", code=2
    )
