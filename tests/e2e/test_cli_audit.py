"""Finding 9: every operator command that moves money or changes data leaves an audit row,
with the operator as actor (``cli:<OS user>``, or ``cli:<--by>``), whichever command it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from handoffs.bootstrap import App
from handoffs.cli.common import cli_actor
from handoffs.cli.main import app as cli
from handoffs.domain.journals import DEFAULT_ACCOUNTS
from handoffs.simulator.systems.legacy_gl import LegacyGl
from tests.support.flow import drain, firm_lines

runner = CliRunner()
ROUTES = """\
version: 1
systems:
  ledger: {role: erp, connector: legacy_gl, folder: ledger, options: {wait_seconds: 10}}
routing:
  - {object: journal, to: [ledger]}
"""


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Path]:
    """A file-drop ledger the journals are routed to, and the systems file naming it."""
    seed = {
        "accounts": [{"company": "LE-US", "account": n} for n in sorted(set(DEFAULT_ACCOUNTS.values()))],
        "open_periods": [{"company": "LE-US", "period": "2026-01"}],
    }
    sim = LegacyGl(seed, tmp_path / "ledger")
    sim.start_polling(0.02)
    (tmp_path / "handoffs.yaml").write_text(ROUTES, encoding="utf-8")
    yield tmp_path / "handoffs.yaml"
    sim.stop()


def _cli(url: str, *args: str, codes: tuple[int, ...] = (0,), stdin: str | None = None) -> Any:
    result = runner.invoke(cli, [*args, "--database-url", url], input=stdin)
    assert result.exit_code in codes, (args, result.output)
    return result


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_finding_9_every_data_changing_cli_command_is_audited(
    hub: App, database_url: str, tmp_path: Path, ledger: Path
) -> None:
    url, lines = database_url, firm_lines(entries=20, projects=2)
    _cli(url, "load", str(_write(tmp_path / "firm.jsonl", lines)))
    drain(hub)
    _cli(url, "reconcile", "--period", "2026-01", codes=(0, 1))
    _cli(url, "credit-note", "INV-P-002-2026-01-01", "--reason", "wrong purchase order")
    _cli(url, "bill", "--period", "2026-01", "--project", "P-002", "--issue-date", "2026-02-05")
    billed = [orjson.loads(x) for x in lines if '"project_id":"P-001"' in x and '"type":"time_entry"' in x]
    changed = [orjson.dumps({**e, "hours": "1.5", "source_version": 2}).decode() for e in billed[:2]]
    _cli(url, "load", str(_write(tmp_path / "changed.jsonl", changed)), "--by", "ana")
    drain(hub)
    with hub.uow() as uow:
        first, _ = (p.id for p in uow.finance.proposals(state="open"))
        [problem, *_] = uow.exceptions.list(category="billed_entry_changed")
    _cli(url, "proposals", "approve", first, "--reason", "client confirmed")
    with hub.uow() as uow:  # the approved credit note withdrew the other one and proposed it afresh
        [second] = (p.id for p in uow.finance.proposals(state="open"))
    _cli(url, "proposals", "reject", second, "--reason", "client disputes it")
    _cli(url, "exceptions", "assign", str(problem.id), "--owner", "ben")
    _cli(url, "exceptions", "ignore", str(problem.id), "--reason", "handled by the proposals")
    _cli(url, "replay", "--correlation-id", "project:P-002", "--yes", "--json")
    _cli(url, "erp", "post-journals", "--period", "2026-01", "--file", str(ledger), codes=(0, 1))
    _cli(
        url,
        "console",
        "adduser",
        "carla",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="Tr0ub4dor&3-horse-battery\n",
    )

    log = orjson.loads(_cli(url, "audit", "list", "--limit", "500", "--json").stdout)
    done = {(r["action"], r["target"]): r for r in log}
    me = cli_actor()
    expected = {
        ("cli.load", "file:firm.jsonl"): me,
        ("cli.load", "file:changed.jsonl"): "cli:ana",
        ("cli.reconcile", "period:2026-01"): me,
        ("cli.credit_note", "invoice:INV-P-002-2026-01-01"): me,
        ("cli.bill", "period:2026-01"): me,
        ("cli.approve_proposal", f"proposal:{first}"): me,
        ("cli.reject_proposal", f"proposal:{second}"): me,
        ("cli.assign_exception", f"exception:{problem.id}"): me,
        ("cli.ignore_exception", f"exception:{problem.id}"): me,
        ("replay", "project:P-002"): me,
        ("cli.post_journals", "period:2026-01"): me,
        ("cli.add_console_user", "user:carla"): me,
    }
    assert {key: done[key]["actor"] for key in expected if key in done} == expected
    load_row = done[("cli.load", "file:firm.jsonl")]["after"]
    assert load_row["completed"] and load_row["lines"] == len(lines) and len(load_row["sha256"]) == 64
    assert (
        done[("cli.credit_note", "invoice:INV-P-002-2026-01-01")]["after"]["reason"] == "wrong purchase order"
    )
    assert _cli(url, "audit", "verify").exit_code == 0


def test_a_short_master_secret_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert runner.invoke(cli, ["db", "upgrade", "--database-url", url]).exit_code == 0
    result = runner.invoke(
        cli, ["audit", "verify", "--database-url", url], env={"HANDOFFS_SECRET_KEY": "short"}
    )
    assert result.exit_code == 2, result.output
    assert "HANDOFFS_SECRET_KEY must be at least 32 characters" in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an error escaping
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 2
