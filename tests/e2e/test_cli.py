"""The command line as a user runs it: a real process, a real database file."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from handoffs.bench.datagen import backfill_lines


def _commands() -> list[list[str]]:
    """Every command and sub-command of the CLI, read from the application itself."""
    import typer

    from handoffs.cli.main import app

    found: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append(path)
        if hasattr(command, "commands"):  # a group (typer bundles its own click)
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = _commands()


def run(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "handoffs.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}: {result.stderr[-2000:]}")
    return result


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HANDOFFS_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "HANDOFFS_ERP": f"file:{tmp_path / 'erp.db'}",
        "COLUMNS": "200",
    }


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "handoffs")
def test_every_command_has_help(command: list[str], env: dict[str, str]) -> None:
    import typer
    from typer.testing import CliRunner

    from handoffs.cli.main import app

    target: Any = typer.main.get_command(app)
    for name in command:
        target = target.commands[name]
    assert (target.help or "").strip(), f"'handoffs {' '.join(command)}' has no help text"
    result = CliRunner().invoke(app, [*command, "--help"], env=env)
    assert result.exit_code == 0 and "Usage:" in result.output


def test_the_installed_command_answers_help(env: dict[str, str]) -> None:
    assert "Usage:" in run("--help", env=env).stdout


def test_commands_refuse_a_database_that_is_not_set_up(env: dict[str, str], tmp_path: Path) -> None:
    result = run("exceptions", "list", env=env, check=False)
    assert result.returncode == 2
    assert "handoffs db upgrade" in result.stderr


def test_load_work_export_and_reload(env: dict[str, str], tmp_path: Path) -> None:
    firm = tmp_path / "firm.jsonl"
    firm.write_text("\n".join(backfill_lines(entries=500, projects=5, malformed=3)) + "\n")
    run("db", "upgrade", env=env)

    loaded = run("load", str(firm), "--json", env=env, check=False)
    assert loaded.returncode == 1  # some lines failed
    report = orjson.loads(loaded.stdout)
    assert report["failed"] == 3 and report["by_type"]["time_entry"] == 500

    problems = orjson.loads(run("exceptions", "list", "--json", env=env).stdout)
    assert len(problems) == 3
    file_lines = firm.read_text().splitlines()
    for problem in problems:
        assert problem["category"] == "validation"
        assert file_lines[problem["detail"]["line"] - 1] == problem["raw"]
    shown = run("exceptions", "show", str(problems[0]["id"]), env=env).stdout
    assert "raw" in shown

    stats = orjson.loads(run("worker", "--until-idle", "--json", env=env).stdout)
    assert stats["dead"] == 0 and stats["processed"] >= 500

    invoices = orjson.loads(run("export", "invoices", "--format", "json", env=env).stdout)
    assert len(invoices) == 5
    assert {inv["status"] for inv in invoices} == {"posted"}
    billed = [s["id"] for inv in invoices for line in inv["lines"] for s in line["sources"]]
    assert len(billed) == len(set(billed)) == 500
    assert all(inv["external_ids"]["erp"].startswith("ERP-") for inv in invoices)

    rows = list(csv.DictReader(io.StringIO(run("export", "invoices", "--format", "csv", env=env).stdout)))
    assert {r["invoice_id"] for r in rows} == {inv["id"] for inv in invoices}
    assert sum(len(r["sources"].split()) for r in rows) == 500

    again = orjson.loads(run("load", str(firm), "--json", env=env, check=False).stdout)
    assert again["outcomes"] == {"unchanged": len(file_lines) - 3}
    assert len(orjson.loads(run("exceptions", "list", "--json", env=env).stdout)) == 3

    dry = orjson.loads(
        run("replay", "--correlation-id", "project:P-001", "--dry-run", "--json", env=env).stdout
    )
    assert dry["runs"] > 100 and dry["failure"] is None  # a flow already handled: the replay changes nothing
    assert dry["invoices"] == [] and dry["entries_priced"] == dry["entries_billed"] == 0
    declined = run("replay", "--correlation-id", "project:P-001", env=env, check=False)
    assert declined.returncode == 1 and "Nothing replayed" in declined.stderr
    replayed = orjson.loads(
        run("replay", "--correlation-id", "project:P-001", "--yes", "--json", env=env).stdout
    )
    assert replayed["queued"] == dry["runs"] > 100
    run("worker", "--until-idle", env=env)
    assert orjson.loads(run("export", "invoices", "--format", "json", env=env).stdout) == invoices


def test_the_published_schemas_match_the_model(tmp_path: Path, env: dict[str, str]) -> None:
    run("generate", "schemas", "--out", str(tmp_path / "schemas"), env=env)
    published = Path(__file__).parents[2] / "schemas"
    generated = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert generated == sorted(p.name for p in published.iterdir())
    for name in generated:
        assert (tmp_path / "schemas" / name).read_text() == (published / name).read_text(), (
            f"schemas/{name} is stale: run handoffs generate schemas"
        )


def test_explain_credit_and_rebill_on_the_example_firm(env: dict[str, str], tmp_path: Path) -> None:
    firm = Path(__file__).parents[2] / "examples" / "firm.jsonl"
    run("db", "upgrade", env=env)
    run("load", str(firm), env=env, check=False)  # the example has three malformed lines
    run("worker", "--until-idle", env=env)
    invoices = orjson.loads(run("export", "invoices", env=env).stdout)
    assert len(invoices) == 20  # ten projects, two months
    line = invoices[0]["lines"][0]

    lineage = orjson.loads(run("explain", "invoice-line", line["id"], "--json", env=env).stdout)
    assert [s["id"] for s in lineage["sources"]] == [s["id"] for s in line["sources"]]
    for source in lineage["sources"]:
        assert source["approval"]["status"] == "approved" and source["approval"]["approved_by"]
        assert source["source_system"] == "timesheets" and source["source_version"] == "1"
    assert lineage["rate_card_version"]["version"] == line["rate_card_version"]
    assert lineage["journal"]["id"] == f"JE-{invoices[0]['id']}"
    assert [d["status"] for d in lineage["deliveries"]] == ["confirmed"]
    assert lineage["erp_ids"]["erp"].startswith("ERP-")
    text = run("explain", "invoice-line", line["id"], env=env).stdout
    assert "rate card v" in text and "delivery to erp: confirmed" in text

    journals = orjson.loads(run("export", "journals", env=env).stdout)
    assert len(journals) == 40  # each invoice and each revenue event, journalled
    for journal in journals:
        debit = sum(Decimal(x["debit"]["amount"]) for x in journal["lines"])
        assert debit == sum(Decimal(x["credit"]["amount"]) for x in journal["lines"])
    revenue = list(csv.DictReader(io.StringIO(run("export", "revenue", "--format", "csv", env=env).stdout)))
    assert sum(Decimal(r["amount"]) for r in revenue) == sum(
        Decimal(i["subtotal"]["amount"]) for i in invoices
    )

    first = invoices[0]
    run("credit-note", first["id"], "--reason", "wrong purchase order", "--issue-date", "2026-03-05", env=env)
    run(
        "bill",
        "--period",
        first["period"],
        "--project",
        first["project_id"],
        "--issue-date",
        "2026-03-05",
        env=env,
    )
    run("worker", "--until-idle", env=env)
    [note] = orjson.loads(run("export", "credit-notes", env=env).stdout)
    assert (
        note["credits_invoice_id"] == first["id"]
        and note["total"]["amount"] == f"-{first['total']['amount']}"
    )
    again = orjson.loads(run("export", "invoices", env=env).stdout)
    [rebill] = [i for i in again if i["id"] not in {x["id"] for x in invoices}]
    assert rebill["total"] == first["total"] and rebill["issue_date"] == "2026-03-05"
    assert {i["status"] for i in again} == {"posted"}
    assert orjson.loads(run("proposals", "list", "--json", env=env).stdout) == []
    bad = run("bill", "--period", "2026-13", env=env, check=False)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def test_triage_fix_ignore_assign_and_retry(env: dict[str, str], tmp_path: Path) -> None:
    lines = list(backfill_lines(entries=40, projects=1, malformed=2))
    late = orjson.loads(next(x for x in lines if '"TE-00000005"' in x))
    late["work_date"] = "2026-02-03"  # after the assignment and the project end: dead-lettered when priced
    lines = [orjson.dumps(late).decode() if '"TE-00000005"' in x else x for x in lines]
    firm = tmp_path / "firm.jsonl"
    firm.write_text("\n".join(lines) + "\n")
    run("db", "upgrade", env=env)
    run("load", str(firm), env=env, check=False)
    assert run("worker", "--until-idle", env=env, check=False).returncode == 1  # it dead-lettered one
    problems = {p["id"]: p for p in orjson.loads(run("exceptions", "list", "--json", env=env).stdout)}
    bad_hours = next(p for p in problems.values() if '"bad-hours"' in p["raw"])
    other_line = next(p for p in problems.values() if p["work_id"] is None and p is not bad_hours)
    dead = next(p for p in problems.values() if p["work_id"] is not None)

    fixed = orjson.loads(bad_hours["raw"])
    fixed["hours"] = "2.5"
    run(
        "exceptions",
        "fix",
        str(bad_hours["id"]),
        "--raw",
        orjson.dumps(fixed).decode(),
        "--by",
        "ana",
        env=env,
    )
    run("exceptions", "ignore", str(other_line["id"]), "--reason", "test line from the old tool", env=env)
    run("exceptions", "assign", str(dead["id"]), "--owner", "ben", env=env)
    refused = run("exceptions", "retry", str(bad_hours["id"]), "--reason", "again", env=env, check=False)
    assert refused.returncode == 2

    # The project and assignment are extended in the source; then the dead letter is retried.
    extended = [orjson.loads(x) for x in lines if '"type":"project"' in x or '"type":"assignment"' in x]
    for record in extended:
        record["end_date"] = "2026-02-28"
        record["source_version"] = 2
    (tmp_path / "fix.jsonl").write_text("\n".join(orjson.dumps(r).decode() for r in extended) + "\n")
    run("load", str(tmp_path / "fix.jsonl"), env=env)
    run("exceptions", "retry", str(dead["id"]), "--reason", "assignment extended", "--by", "ben", env=env)
    run("worker", "--until-idle", env=env)

    after = {p["id"]: p for p in orjson.loads(run("exceptions", "list", "--json", env=env).stdout)}
    assert after[bad_hours["id"]]["state"] == "resolved"
    assert after[other_line["id"]]["state"] == "ignored"
    assert after[dead["id"]]["state"] == "resolved", (
        after[dead["id"]]["reason"],
        after[dead["id"]]["resolution"],
    )
    assert after[dead["id"]]["owner"] == "ben"
    billed = [
        s["id"]
        for i in orjson.loads(run("export", "invoices", env=env).stdout)
        for ln in i["lines"]
        for s in ln["sources"]
    ]
    assert "bad-hours" in billed and "TE-00000005" in billed
    verified = run("audit", "verify", env=env)
    assert verified.returncode == 0


def test_exceptions_by_priority_grouped_and_replayed_after_a_preview(
    env: dict[str, str], tmp_path: Path
) -> None:
    lines = list(backfill_lines(entries=40, projects=2))
    bad = orjson.loads(next(x for x in lines if '"TE-00000001"' in x))
    bad["role"] = "astronaut"  # no rate: pricing dead-letters it
    contract = orjson.loads(next(x for x in lines if '"id":"K-001"' in x and '"type":"contract"' in x))
    firm = tmp_path / "firm.jsonl"
    firm.write_text(
        "\n".join(orjson.dumps(bad).decode() if '"TE-00000001"' in x else x for x in lines) + "\n"
    )
    run("db", "upgrade", env=env)
    run("load", str(firm), env=env)
    assert run("worker", "--until-idle", env=env, check=False).returncode == 1  # it dead-lettered one
    [dead] = orjson.loads(run("exceptions", "list", "--json", "--sort", "priority", env=env).stdout)
    assert dead["project_id"] == "P-001" and dead["days_to_close"] is not None and dead["work_id"]
    table = run("exceptions", "list", "--sort", "priority", env=env).stdout
    assert "at risk" in table and "close" in table and " d " in table  # 80 columns: short headers
    groups = orjson.loads(run("exceptions", "list", "--group-by", "project", "--json", env=env).stdout)
    assert [(g["key"], g["count"]) for g in groups["groups"]] == [("P-001", 1)]
    wrong = run("exceptions", "list", "--group-by", "colour", env=env, check=False)
    assert wrong.returncode == 2 and "project, invoice, customer, message" in wrong.stderr

    for version in contract["rate_card"]:
        version["rates"]["astronaut"] = "300.00"
    contract["source_version"] = 99
    (tmp_path / "rate.jsonl").write_text(orjson.dumps(contract).decode() + "\n")
    run("load", str(tmp_path / "rate.jsonl"), env=env)
    repriced = run("worker", "--until-idle", env=env, check=False)
    assert repriced.returncode == 1  # the amendment's repricing dead-letters too: exit 1 says so
    previewed = orjson.loads(
        run("exceptions", "replay", str(dead["id"]), "--dry-run", "--json", env=env).stdout
    )
    assert previewed["failure"] is None and previewed["entries_priced"] == 1
    [new] = previewed["invoices"]
    assert new["change"] == "new" and new["lines"][0]["unit_price"] == "300.00"
    assert run("export", "invoices", "--format", "json", env=env).stdout.count(new["id"]) == 0  # nothing kept
    refused = run("exceptions", "replay", str(dead["id"]), env=env, check=False)
    assert refused.returncode == 2 and "--reason" in refused.stderr
    declined = run("exceptions", "replay", str(dead["id"]), "--reason", "rate added", env=env, check=False)
    assert declined.returncode == 1 and "Nothing replayed" in declined.stderr  # no one said yes
    done = run(
        "exceptions", "replay", str(dead["id"]), "--reason", "rate added", "--yes", "--by", "ana", env=env
    )
    assert new["id"] in done.stdout and "1 run(s) queued" in done.stdout
    run("worker", "--until-idle", env=env)
    invoices = {
        i["id"]: i for i in orjson.loads(run("export", "invoices", "--format", "json", env=env).stdout)
    }
    assert invoices[new["id"]]["total"] == {"amount": new["total"], "currency": new["currency"]}
    audit = orjson.loads(run("audit", "list", "--json", env=env).stdout)
    assert any(a["action"] == "exceptions.replay" and a["actor"] == "cli:ana" for a in audit)
    assert run("audit", "verify", env=env).returncode == 0


def test_worker_posts_to_the_erps_a_systems_file_names(env: dict[str, str], tmp_path: Path) -> None:
    """A deployed worker reads handoffs.yaml (or HANDOFFS_SYSTEMS) for its ERPs, not HANDOFFS_ERP."""
    firm = tmp_path / "firm.jsonl"
    firm.write_text("\n".join(backfill_lines(entries=60, projects=2)) + "\n")
    (tmp_path / "handoffs.yaml").write_text(
        "version: 1\nsystems:\n  ledger:\n    role: erp\n    connector: legacy_gl\n    folder: gl\n"
    )
    (tmp_path / "gl" / "inbox").mkdir(parents=True)  # the ledger's share, mounted before the hub runs
    run("db", "upgrade", env=env)
    run("load", str(firm), env=env)
    quick = {"HANDOFFS_MAX_ATTEMPTS": "2", "HANDOFFS_BACKOFF_BASE": "0.05"}  # no ledger answers here
    worked = run(
        "worker",
        "--until-idle",
        env={**env, **quick, "HANDOFFS_SYSTEMS": str(tmp_path / "handoffs.yaml")},
        check=False,
    )
    assert worked.returncode == 1  # postings wait for the ledger's answer: dead letters for a person
    dropped = sorted(p.name for p in (tmp_path / "gl" / "inbox").glob("*.csv"))
    assert len(dropped) == 2  # one GL interface file per invoice: two projects, one month
    assert not (tmp_path / "erp.db").exists()  # HANDOFFS_ERP was not used
    missing = run("worker", "--until-idle", "--systems", str(tmp_path / "nope.yaml"), env=env, check=False)
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr
