"""What the command line prints for people: 80 columns, money as money, no Python reprs."""

from __future__ import annotations

import os
from decimal import Decimal

import orjson
import pytest

from handoffs.bench.datagen import backfill_lines
from handoffs.cli.common import money, plain
from handoffs.domain.money import Money
from tests.support.cli import handoffs


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A firm loaded but not billed: every approved entry is a not_billed break."""
    tmp = tmp_path_factory.mktemp("output")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFFS_")}
    env |= {"HANDOFFS_DATABASE_URL": f"sqlite:///{tmp / 'hub.db'}", "HANDOFFS_ERP": "none", "COLUMNS": "80"}
    firm = tmp / "firm.jsonl"
    firm.write_text("\n".join(backfill_lines(entries=30, projects=2, malformed=1)) + "\n")
    assert handoffs("db", "upgrade", env=env).returncode == 0
    loaded = handoffs("load", str(firm), env=env | {"HANDOFFS_PROGRESS_SECONDS": "0"})
    assert loaded.returncode == 1  # the malformed line
    # standard error is not a terminal here: progress comes as plain lines, the last one "done"
    progress = [line for line in loaded.stderr.splitlines() if line.startswith("loading firm.jsonl")]
    assert progress and progress[-1].endswith(", done") and "(100%)" in progress[-1], loaded.stderr
    return env


def test_money_and_plain_values() -> None:
    assert money(Decimal("1234567.5"), "EUR") == "1,234,567.5 EUR"
    assert money(Money.of("-9876.54", "GBP")) == "-9,876.54 GBP"
    assert money({"amount": "1000.00", "currency": "USD"}) == "1,000.00 USD"
    assert money(None) == "-"
    assert plain({"erp": {"confirmed": 3}, "held": True, "ids": ["a", "b"], "none": None}) == (
        "erp confirmed 3, held yes, ids a, b, none -"
    )


def test_reconcile_summarises_by_code_with_limit_and_only_breaks(hub_env: dict[str, str]) -> None:
    shown = handoffs("reconcile", "--period", "2026-01", "--limit", "2", env=hub_env)
    assert shown.returncode == 1  # unexplained breaks need a person
    out = shown.stdout
    assert "variance code" in out and "not_billed" in out
    assert "28 more not listed" in out  # 30 approved entries, two listed
    assert all(len(line) <= 80 for line in out.splitlines()), out
    # the first run opened an exception per break: now each is explained by it, none is a break
    again = handoffs("reconcile", "--period", "2026-01", "--json", env=hub_env)
    assert again.returncode == 0
    data = orjson.loads(again.stdout)
    assert (
        data["by_code"] == {"exception_open": 30} and data["unexplained"] == 0 and len(data["details"]) == 30
    )
    only = orjson.loads(
        handoffs("reconcile", "--period", "2026-01", "--only-breaks", "--json", env=hub_env).stdout
    )
    assert only["by_code"] == {"exception_open": 30} and only["details"] == []


def test_exceptions_list_reads_at_80_columns(hub_env: dict[str, str]) -> None:
    out = handoffs("exceptions", "list", "--sort", "money", env=hub_env).stdout
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), out
    assert "exceptions show ID" in out and "at risk" in out
    assert " USD " in out and "," in out  # money with its currency and thousands separators
    assert "True" not in out and "{" not in out  # no Python reprs, no raw payloads
    shown = handoffs("exceptions", "show", "1", env=hub_env).stdout
    assert "True" not in shown and "False" not in shown and "{'" not in shown


def test_progress_without_a_terminal_is_periodic_lines() -> None:
    import io

    from rich.console import Console

    from handoffs.cli.progress import LineProgress

    out = io.StringIO()
    with LineProgress(Console(file=out, width=200), every=0) as progress:
        task = progress.add_task("posting", total=200)
        progress.advance(task, 50)
        progress.update(task, description="posting journals", completed=200)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("posting: 50 of 200 (25%), ")
    assert lines[1].startswith("posting journals: 200 of 200 (100%), ")
    assert lines[-1].startswith("posting journals: 200 of 200 (100%)") and lines[-1].endswith(", done")


def test_export_takes_json(hub_env: dict[str, str]) -> None:
    exported = handoffs("export", "invoices", "--json", env=hub_env)
    assert exported.returncode == 0 and orjson.loads(exported.stdout) == []
