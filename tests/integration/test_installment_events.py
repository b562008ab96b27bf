"""#16 item 6: fixed-fee installments due on events (docs/billing-and-revenue.md,
"Fixed-fee installments due on events"), through the commands, inputs read from the page."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.integration.test_period_close import cli_, load


def billed(url: str) -> list[tuple[str, list[str], str]]:
    found = [i for i in orjson.loads(cli_(url, "export", "invoices")) if i["project_id"] == "P-FF-EV"]
    return sorted(
        (i["period"], [s["id"] for ln in i["lines"] for s in ln["sources"]], i["total"]["amount"])
        for i in found
    )


def bill(url: str, period: str) -> None:
    cli_(url, "bill", "--period", period, "--project", "P-FF-EV")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-04-01")


def test_installments_fall_due_on_acceptance_and_on_completion(database_url: str, tmp_path: Path) -> None:
    url = database_url
    load(url, tmp_path, "period-close/march.jsonl")
    load(url, tmp_path, "events/signed.jsonl")
    bill(url, "2026-01")
    bill(url, "2026-02")
    assert billed(url) == [("2026-01", ["I-SIGN"], "4800.00")]
    ready = orjson.loads(cli_(url, "readiness", "--period", "2026-02", "--json"))
    [project] = [p for p in ready["projects"] if p["project_id"] == "P-FF-EV"]
    assert [r["code"] for r in project["reasons"]] == ["no_installment_due"]

    load(url, tmp_path, "events/later.jsonl")
    bill(url, "2026-02")
    bill(url, "2026-03")
    assert billed(url) == [
        ("2026-01", ["I-SIGN"], "4800.00"),
        ("2026-02", ["I-UAT"], "3600.00"),
        ("2026-03", ["I-DONE"], "3600.00"),
    ]
