"""#16 item 12: a retainer invoiced in advance and drawn down (docs/billing-and-revenue.md,
"A retainer invoiced in advance"), through the commands, inputs read from the page."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import orjson

from tests.integration.test_period_close import cli_, load


def test_each_invoice_shows_time_billed_retainer_applied_and_amount_due(
    database_url: str, tmp_path: Path
) -> None:
    url = database_url
    load(url, tmp_path, "period-close/march.jsonl")
    load(url, tmp_path, "retainer/contract.jsonl")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-06-01")
    invoices = [i for i in orjson.loads(cli_(url, "export", "invoices")) if i["project_id"] == "P-RET"]
    got = [
        (
            i["period"],
            [(ln["kind"], ln["amount"]["amount"], ln["tax"]["amount"]) for ln in i["lines"]],
            i["subtotal"]["amount"],
            i["tax"]["amount"],
            i["total"]["amount"],
        )
        for i in sorted(invoices, key=lambda i: i["period"])
    ]
    assert got == [
        (
            "2026-03",
            [
                ("time", "1200.00", "240.00"),
                ("retainer", "3000.00", "600.00"),
                ("retainer_applied", "-1200.00", "-240.00"),
            ],
            "3000.00",
            "600.00",
            "3600.00",
        ),
        (
            "2026-04",
            [("time", "1500.00", "300.00"), ("retainer_applied", "-1500.00", "-300.00")],
            "0.00",
            "0.00",
            "0.00",
        ),
        (
            "2026-05",
            [("time", "600.00", "120.00"), ("retainer_applied", "-300.00", "-60.00")],
            "300.00",
            "60.00",
            "360.00",
        ),
    ]
    journals = [
        j
        for j in orjson.loads(cli_(url, "export", "journals"))
        if "P-RET" in j["id"] or "C-TM-RET" in j["id"]
    ]
    balance: dict[str, Decimal] = defaultdict(Decimal)
    for j in journals:
        for line in j["lines"]:
            balance[line["account"]] += Decimal(line["debit"]["amount"]) - Decimal(line["credit"]["amount"])
    assert balance["487000"] == 0 and balance["418100"] == 0  # the retainer is used in full
    assert (balance["411000"], balance["445710"], balance["706000"]) == (
        Decimal("3960.00"),
        Decimal("-660.00"),
        Decimal("-3300.00"),
    )
    [march] = [j for j in journals if j["id"] == "JE-INV-P-RET-2026-03-01"]
    assert {
        (ln["account"], Decimal(ln["debit"]["amount"]) - Decimal(ln["credit"]["amount"]))
        for ln in march["lines"]
    } == {
        ("411000", Decimal("3600.00")),
        ("445710", Decimal("-600.00")),
        ("418100", Decimal("-1200.00")),
        ("487000", Decimal("-1800.00")),
    }
