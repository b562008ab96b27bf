"""#16 item 7: expenses in full (docs/billing-and-revenue.md, example 5), through the
commands: the invoice line carries cost, FX and markup; explain shows them with the
expense's approval; the claim is journalled in the entity's functional currency."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.integration.test_period_close import cli_

FIXTURE = Path(__file__).parents[1] / "fixtures" / "billing" / "expense-fx-markup.jsonl"


def test_an_expense_line_and_its_claim_carry_cost_fx_and_markup(database_url: str) -> None:
    url = database_url
    cli_(url, "load", str(FIXTURE))
    cli_(url, "bill", "--period", "2026-03")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-04-15")
    [invoice] = orjson.loads(cli_(url, "export", "invoices"))
    [line] = invoice["lines"]
    assert (line["cost"], line["fx_rate"], line["fx_rate_id"], line["converted_cost"], line["markup"]) == (
        {"amount": "187.45", "currency": "GBP"},
        "1.1712",
        "FX-GBP-EUR-2026-03-09",
        {"amount": "219.541440", "currency": "EUR"},
        "0.15",
    )
    assert (line["amount"]["amount"], line["tax"]["amount"], invoice["total"]["amount"]) == (
        "252.47",
        "50.49",
        "302.96",
    )
    told = orjson.loads(cli_(url, "explain", "invoice-line", line["id"], "--json"))
    [source] = told["sources"]
    assert (source["amount"], source["incurred_on"], source["approval"]) == (
        {"amount": "187.45", "currency": "GBP"},
        "2026-03-10",
        {"status": "approved", "has_receipt": True},
    )
    assert told["fx"]["converted_cost"] == {"amount": "219.541440", "currency": "EUR"}
    text = " ".join(cli_(url, "explain", "invoice-line", line["id"]).replace("│", " ").split())  # unwrapped
    assert "cost 187.45 GBP at 1.1712 (FX-GBP-EUR-2026-03-09) = 219.541440 EUR, markup 0.15" in text
    assert "expense E-501: 187.45 GBP on 2026-03-10 by R-ANA, approved, with receipt" in text
    [claim] = [j for j in orjson.loads(cli_(url, "export", "journals")) if j["id"] == "JE-CLAIM-E-501"]
    assert claim["currency"] == "EUR" and "at 1.1712 FX-GBP-EUR-2026-03-09" in claim["memo"]
    assert sorted(
        (ln["account"], ln["debit"]["amount"], ln["credit"]["amount"]) for ln in claim["lines"]
    ) == [
        ("421000", "0", "219.54"),
        ("625100", "219.54", "0"),
    ]
