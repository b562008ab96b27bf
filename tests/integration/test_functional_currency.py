"""#16 item 11: journals in the entity's functional currency, with the FX difference between
revenue and invoicing rates (docs/billing-and-revenue.md, "Functional currency")."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson

from tests.integration.test_period_close import cli_, load


def test_a_eur_contract_on_a_usd_entity_is_journalled_in_usd(database_url: str, tmp_path: Path) -> None:
    url = database_url
    load(url, tmp_path, "functional/eur-on-usd.jsonl")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-03-20")
    cli_(url, "bill", "--period", "2026-03", "--issue-date", "2026-04-15")
    cli_(url, "worker", "--until-idle")
    [invoice] = orjson.loads(cli_(url, "export", "invoices"))
    assert (invoice["currency"], invoice["total"]["amount"]) == ("EUR", "1200.00")
    journals = {j["id"]: j for j in orjson.loads(cli_(url, "export", "journals"))}

    def lines(entry_id: str) -> list[tuple[str, Decimal, str, str]]:
        j = journals[entry_id]
        assert j["currency"] == "USD"
        return sorted(
            (
                ln["account"],
                Decimal(ln["debit"]["amount"]) - Decimal(ln["credit"]["amount"]),
                ln["document_amount"]["amount"] if ln["document_amount"] else "",
                ln["fx_rate"] or "",
            )
            for ln in j["lines"]
        )

    [revenue] = [k for k in journals if k.startswith("JE-REV-")]
    assert lines(revenue) == [
        ("1210", Decimal("1296.00"), "1200.00", "1.0800"),
        ("4000", Decimal("-1296.00"), "-1200.00", "1.0800"),
    ]
    got = lines(f"JE-{invoice['id']}")
    assert [(a, v) for a, v, *_ in got] == [
        ("1200", Decimal("1320.00")),
        ("1210", Decimal("-1296.00")),
        ("7900", Decimal("-24.00")),
    ]
    assert (got[0][3], Decimal(got[1][3])) == ("1.1000", Decimal("1.08"))
    assert "translated from EUR at 1.1000 (FX-EUR-USD-2026-04-10)" in journals[f"JE-{invoice['id']}"]["memo"]
