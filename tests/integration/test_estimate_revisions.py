"""#16 item 6: revised estimates with an effective date (docs/billing-and-revenue.md,
"Revised estimates"): loaded at once, the revenue is the one of month-by-month revisions."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.integration.test_period_close import cli_
from tests.support.docs import doc_input

FIXTURE = Path(__file__).parents[1] / "fixtures" / "billing" / "fixed-fee-poc.jsonl"


def test_loading_every_revision_at_once_recognises_what_monthly_revisions_did(
    database_url: str, tmp_path: Path
) -> None:
    url = database_url
    lines = [x for x in FIXTURE.read_text().splitlines() if '"type":"contract"' not in x]
    path = tmp_path / "ff.jsonl"
    path.write_text(
        "\n".join([*lines, doc_input("billing-and-revenue.md", "estimates/contract.jsonl")]) + "\n"
    )
    cli_(url, "load", str(path))
    cli_(url, "worker", "--until-idle", "--as-of", "2026-01-15")
    for period in ("2026-01", "2026-02", "2026-03"):
        cli_(url, "bill", "--period", period)
        cli_(url, "worker", "--until-idle", "--as-of", "2026-04-15")
    revenue = orjson.loads(cli_(url, "export", "revenue"))
    assert sorted((r["period"], r["amount"]["amount"]) for r in revenue) == [
        ("2026-01", "3000.00"),
        ("2026-02", "2280.00"),
        ("2026-03", "-480.00"),
    ]
