"""Policy files: loading, versions, and errors reported at their exact line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from handoffs.cli.main import app
from handoffs.policies import load_book, load_policy_text

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
policy: p
version: 1
effective_from: 2026-01-01
approvals:
  - name: big
    applies_to: time
    when: {amount_over: 1000.10}
    require: {approvers: 2}
"""


def test_the_example_policies_load_without_errors() -> None:
    book, errors = load_book([ROOT / "policies"])
    assert errors == []
    assert {p.ref for p in book.policies} >= {"us-default@v1", "us-default@v2", "uk-default@v1"}


def test_amounts_are_read_from_their_text_never_as_floats() -> None:
    policy, errors = load_policy_text(GOOD, "p.yaml")
    assert errors == [] and policy is not None
    assert policy.approvals[0].amount_over == Decimal("1000.10")


def test_each_error_names_its_file_and_line() -> None:
    text = GOOD.replace("version: 1", "version: zero").replace("approvers: 2", "approvers: 0")
    text += "gl:\n  require_cost_centre: maybe\nmystery: 1\n"
    policy, errors = load_policy_text(text, "bad.yaml")
    assert policy is None
    assert [(e.line, e.message.split(" ")[0]) for e in errors] == [
        (11, "policy"),  # unknown top-level key
        (2, "version"),
        (8, "approvals[0].require.approvers"),
        (10, "gl.require_cost_centre"),
    ]
    assert str(errors[1]).startswith("bad.yaml:2: version must be a whole number")


def test_yaml_syntax_errors_carry_their_line() -> None:
    _, errors = load_policy_text("policy: p\nversion: 1\napprovals: [\n", "broken.yaml")
    assert len(errors) == 1 and errors[0].line >= 3 and "not valid YAML" in errors[0].message


def test_versions_of_one_policy_are_unique_and_ordered(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    (tmp_path / "c.yaml").write_text(
        GOOD.replace("version: 1", "version: 3").replace("2026-01-01", "2025-06-01")
    )
    _, errors = load_book([tmp_path])
    assert [(Path(e.file).name, e.line) for e in errors] == [("b.yaml", 2), ("c.yaml", 2)]
    assert "also in" in errors[0].message and "must take effect after" in errors[1].message


def test_the_book_selects_the_most_specific_scope_then_the_latest_version_in_force() -> None:
    book, _ = load_book([ROOT / "policies"])
    assert book.select("LE-US", "US", date(2026, 2, 28)).ref == "us-default@v1"
    assert book.select("LE-US", "US", date(2026, 3, 1)).ref == "us-default@v2"
    assert book.select("LE-GB", "GB", date(2026, 3, 1)).ref == "uk-default@v1"
    assert book.select("LE-DE", "DE", date(2026, 3, 1)) is None
    assert book.select("LE-US", "US", date(2025, 12, 31)) is None


def test_policy_check_exits_1_and_prints_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("applies_to: time", "applies_to: lunch"))
    result = CliRunner().invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:6: approvals[0].applies_to must be time or expense" in result.output
    ok = CliRunner().invoke(app, ["policy", "check", str(ROOT / "policies")])
    assert ok.exit_code == 0 and "us-default@v2" in ok.output
