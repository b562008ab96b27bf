"""Bulk ``handoffs exceptions ignore|retry|assign`` with filter options (SQLite: the CLI is the point)."""

from __future__ import annotations

import re

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from handoffs.cli.main import app as cli
from handoffs.store.tables import audit_log
from tests.console.conftest import Console
from tests.support.flow import load

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
runner = CliRunner()


def test_bulk_actions_select_by_filter_preview_and_audit(console: Console, database_url: str) -> None:
    hub, firm = console.hub, console.firm
    pulled = orjson.dumps({**orjson.loads(firm.bad_line), "id": "TE-H-1"}).decode()
    assert load(hub, [pulled], source="harvest:time_entries").failed == 1

    def run(*args: str, code: int) -> str:
        result = runner.invoke(cli, ["exceptions", *args, "--database-url", database_url, "--by", "ops"])
        assert result.exit_code == code, result.output
        return result.output

    assert "filter options" in run("ignore", "--reason", "noise", code=2)  # neither id nor filter
    assert "not both" in run("ignore", "1", "--system", "harvest", "--reason", "noise", code=2)
    dry = orjson.loads(run("ignore", "--system", "harvest", "--reason", "n", "--dry-run", "--json", code=0))
    assert dry["selected"] == 1 and "changed" not in dry
    [harvest_id] = dry["selected_ids"]
    assert "Nothing changed" in run("ignore", "--system", "harvest", "--reason", "noise", code=1)  # no answer
    assert "1 exception(s) changed" in run(
        "ignore", "--system", "harvest", "--reason", "noise", "--yes", code=0
    )
    out = run("retry", "--category", "validation", "--state", "open", "--reason", "r", "--yes", code=1)
    assert "no work item to retry" in out  # a bad line has nothing to requeue: refused, left open
    assert "1 exception(s) changed" in run(
        "assign", "--search", "n/a", "--state", "open", "--owner", "kim", "--yes", code=0
    )
    with hub.uow() as uow:
        ignored, kept = uow.exceptions.get(harvest_id), uow.exceptions.get(firm.exception_id)
        actions = list(uow.connection.execute(select(audit_log.c.action, audit_log.c.actor)))
    assert ignored.state == "ignored" and (kept.state, kept.owner) == ("in_progress", "kim")
    assert ("cli.bulk_ignore_exceptions", "cli:ops") in actions
    assert ("cli.ignore_exception", "cli:ops") in actions and ("cli.assign_exception", "cli:ops") in actions


def test_the_overview_and_analytics_show_print_one_straight_through_rate(
    console: Console, database_url: str
) -> None:
    from tests.console.conftest import sign_in

    shown = runner.invoke(cli, ["analytics", "show", "--database-url", database_url])
    assert shown.exit_code == 0, shown.output
    found = re.search(r"Straight-through overall: ([\d.]+ %) \(([\d,]+) of ([\d,]+) records\)", shown.output)
    assert found is not None, shown.output
    http = console.client()
    sign_in(http, "vera")
    card = http.get("/console/").text
    assert f'data-testid="straight-through">{found.group(1)}<' in card
    assert f"{found.group(2)} of {found.group(3)} records" in card
