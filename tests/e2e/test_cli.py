"""The command line as a user runs it: a real process, a real database file."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from handoffs.bench.datagen import backfill_lines

COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["load"],
    ["worker"],
    ["replay"],
    ["export"],
    ["export", "invoices"],
    ["exceptions"],
    ["exceptions", "list"],
    ["exceptions", "show"],
    ["generate"],
    ["generate", "backfill"],
    ["generate", "schemas"],
    ["demo"],
    ["simulate"],
]


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
    result = run(*command, "--help", env=env)
    assert "Usage:" in result.stdout
    assert len(result.stdout.splitlines()) > 4


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

    replayed = orjson.loads(run("replay", "--correlation-id", "project:P-001", "--json", env=env).stdout)
    assert replayed["queued"] > 100
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
