"""#16 item 5: billing on a business date (docs/billing-and-revenue.md, "Business dates"),
through the commands, inputs read from the page. SQLite only: the dates are decided before
the store is reached, and test_period_close covers both databases."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.integration.test_period_close import cli_, load


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from handoffs.store.db import make_engine
    from handoffs.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HANDOFFS_ERP", "none")
    return url


def documents(url: str) -> list[tuple[str, str, str, str]]:
    found = [
        *orjson.loads(cli_(url, "export", "invoices")),
        *orjson.loads(cli_(url, "export", "credit-notes")),
    ]
    return sorted((d["issue_date"], d["kind"], d["period"], d["total"]["amount"]) for d in found)


def test_documents_carry_the_business_date_not_the_machine_date(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(url, tmp_path, "period-close/march.jsonl")
    monkeypatch.setenv("HANDOFFS_AS_OF", "2026-03-20")
    cli_(url, "worker", "--until-idle")
    assert documents(url) == []  # March has not ended on the business date

    monkeypatch.delenv("HANDOFFS_AS_OF")
    cli_(url, "bill", "--period", "2026-03", "--as-of", "2026-04-02")
    cli_(url, "worker", "--until-idle")
    [first] = orjson.loads(cli_(url, "export", "invoices"))
    cli_(url, "credit-note", first["id"], "--reason", "purchase order missing", "--as-of", "2026-04-15")
    monkeypatch.setenv("HANDOFFS_AS_OF", "2026-04-16")
    cli_(url, "bill", "--period", "2026-03")
    cli_(url, "worker", "--until-idle")
    monkeypatch.delenv("HANDOFFS_AS_OF")
    assert documents(url) == [
        ("2026-04-02", "invoice", "2026-03", "1440.00"),
        ("2026-04-15", "credit_note", "2026-04", "-1440.00"),
        ("2026-04-16", "invoice", "2026-03", "1440.00"),
    ]

    load(url, tmp_path, "business-dates/correction.jsonl")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-04-19")
    [proposal] = orjson.loads(cli_(url, "proposals", "list", "--state", "open", "--json"))
    cli_(
        url,
        "proposals",
        "approve",
        proposal["id"],
        "--reason",
        "timesheet corrected",
        "--as-of",
        "2026-04-20",
    )
    cli_(url, "worker", "--until-idle")
    assert documents(url)[3:] == [
        ("2026-04-20", "credit_note", "2026-04", "-1440.00"),
        ("2026-04-20", "invoice", "2026-03", "1080.00"),
    ]


def test_a_malformed_business_date_is_a_usage_error(url: str) -> None:
    out = cli_(url, "bill", "--period", "2026-03", "--as-of", "2026-13-01", code=2)
    assert "must be a date" in out
