"""#16 item 4: a closed period stays closed in every report (docs/billing-and-revenue.md,
"Closing a period"), run through the commands a controller types, inputs read from the page."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from handoffs.cli.main import app as cli
from tests.support.docs import doc_input

runner = CliRunner()
PAGE = "billing-and-revenue.md"


def cli_(url: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, [*args, "--database-url", url], env={"HANDOFFS_ERP": "none"})
    assert result.exit_code == code, (args, result.output)
    return result.output


def load(url: str, tmp: Path, name: str) -> None:
    path = tmp / name.replace("/", "-")
    path.write_text(doc_input(PAGE, name), encoding="utf-8")
    cli_(url, "load", str(path))


def analytics(url: str, out: Path) -> dict[str, list[dict[str, Any]]]:
    cli_(url, "analytics", "export", "--out", str(out), "--format", "csv")
    return {p.stem: list(csv.DictReader(p.open(encoding="utf-8"))) for p in out.glob("*.csv")}


def row(rows: list[dict[str, Any]], period: str, **match: str) -> dict[str, Any]:
    [found] = [r for r in rows if r["period"] == period and all(r[k] == v for k, v in match.items())]
    return found


def revenue(url: str) -> list[tuple[str, str, str]]:
    rows = orjson.loads(cli_(url, "export", "revenue"))
    return sorted((r["period"], r["delivered_period"], r["amount"]["amount"]) for r in rows)


def test_closed_march_reports_what_it_reported_at_close(database_url: str, tmp_path: Path) -> None:
    url = database_url
    load(url, tmp_path, "period-close/march.jsonl")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-04-01")
    at_close = analytics(url, tmp_path / "before")
    cli_(url, "period", "close", "LE-FR", "2026-03", "--by", "controller")

    load(url, tmp_path, "period-close/late.jsonl")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-04-06")
    after = analytics(url, tmp_path / "after")

    assert revenue(url) == [("2026-03", "2026-03", "1200.00"), ("2026-04", "2026-03", "600.00")]
    for name, rows in at_close.items():  # every product's March rows, unchanged
        assert [r for r in after[name] if r["period"] == "2026-03"] == [
            r for r in rows if r["period"] == "2026-03"
        ], name
    march, april = row(after["wip"], "2026-03"), row(after["wip"], "2026-04")
    assert (march["recognised_in_period"], march["billed_in_period"], march["wip"]) == (
        "1200.00",
        "1200.00",
        "0.00",
    )
    assert (april["recognised_in_period"], april["billed_in_period"]) == ("600.00", "600.00")
    assert (april["recognised_to_date"], april["billed_to_date"], april["wip"]) == (
        "1800.00",
        "1800.00",
        "0.00",
    )
    margin = [
        (r["period"], r["hours"], r["revenue"], r["cost"], r["margin"]) for r in after["project_margin"]
    ]
    assert margin == [
        ("2026-03", "8.00", "1200.00", "800.00", "400.00"),
        ("2026-04", "4.00", "600.00", "400.00", "200.00"),
    ]
    invoices = orjson.loads(cli_(url, "export", "invoices"))
    assert sorted((i["period"], i["issue_date"], i["total"]["amount"]) for i in invoices) == [
        ("2026-03", "2026-03-31", "1440.00"),
        ("2026-04", "2026-04-30", "720.00"),
    ]
    ready = orjson.loads(cli_(url, "readiness", "--period", "2026-03", "--json"))
    assert [(p["project_id"], p["status"]) for p in ready["projects"]] == [("P-CLOSE", "closed")]

    cli_(url, "period", "reopen", "LE-FR", "2026-03", "--reason", "audit adjustment", "--by", "controller")
    reopened = analytics(url, tmp_path / "reopened")
    margin = [(r["period"], r["hours"], r["revenue"], r["cost"]) for r in reopened["project_margin"]]
    assert margin == [("2026-03", "12.00", "1200.00", "1200.00"), ("2026-04", "0.00", "600.00", "0.00")]
    listed = orjson.loads(cli_(url, "period", "list", "--json"))
    assert [(p["state"], p["closed_by"], p["reopened_by"]) for p in listed] == [
        ("reopened", "controller", "controller")
    ]
    log = orjson.loads(cli_(url, "audit", "list", "--limit", "50", "--json"))
    done = {r["action"]: (r["actor"], r["target"], r["at"] is not None) for r in log}
    assert done["cli.period_close"] == ("cli:controller", "period:LE-FR:2026-03", True)
    assert done["cli.period_reopen"] == ("cli:controller", "period:LE-FR:2026-03", True)


def test_closing_twice_or_an_unknown_entity_is_a_usage_error(database_url: str) -> None:
    url = database_url
    assert "No legal entity LE-XX" in cli_(url, "period", "close", "LE-XX", "2026-03", code=2)
    assert "was not closed" in cli_(url, "period", "reopen", "LE-XX", "2026-03", "--reason", "r", code=2)
