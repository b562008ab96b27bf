"""#16 item 9: readiness as a gate (docs/billing-and-revenue.md, "Readiness as a gate"),
through the commands, with the page's policy and inputs."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.integration.test_period_close import cli_, load
from tests.support.docs import doc_input


@pytest.fixture
def url(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    policy = tmp_path / "policy.yaml"
    policy.write_text(doc_input("billing-and-revenue.md", "readiness-gate/policy.yaml"), encoding="utf-8")
    monkeypatch.setenv("HANDOFFS_POLICIES", str(policy))
    monkeypatch.setenv("HANDOFFS_ERP", "none")
    return database_url


def held(url: str, state: str) -> list[dict[str, object]]:
    rows = orjson.loads(
        cli_(url, "exceptions", "list", "--category", "billing_held", "--state", state, "--json")
    )
    return list(rows)


def test_a_run_waits_until_the_project_is_ready(url: str, tmp_path: Path) -> None:
    load(url, tmp_path, "period-close/march.jsonl")
    load(url, tmp_path, "readiness-gate/waiting.jsonl")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-04-01")
    assert orjson.loads(cli_(url, "export", "invoices")) == []
    assert orjson.loads(cli_(url, "export", "revenue")) == []
    [hold] = held(url, "open")
    assert hold["reason"] == "billing of P-CLOSE for 2026-03 held until ready: unapproved_time"
    assert [r["code"] for r in hold["detail"]["reasons"]] == ["unapproved_time"]  # type: ignore[index]
    ready = orjson.loads(cli_(url, "readiness", "--period", "2026-03", "--json"))
    assert [(p["status"], [r["code"] for r in p["reasons"]]) for p in ready["projects"]] == [
        ("blocked", ["unapproved_time"])
    ]

    load(url, tmp_path, "readiness-gate/approved.jsonl")
    cli_(url, "worker", "--until-idle", "--as-of", "2026-04-07")
    [invoice] = orjson.loads(cli_(url, "export", "invoices"))
    assert (invoice["period"], invoice["subtotal"]["amount"], invoice["total"]["amount"]) == (
        "2026-03",
        "1800.00",
        "2160.00",
    )
    assert [r["amount"]["amount"] for r in orjson.loads(cli_(url, "export", "revenue"))] == ["1800.00"]
    assert held(url, "open") == [] and len(held(url, "resolved")) == 1
