"""The firm generator: deterministic bytes, decodable canonical records, shape within range."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoffs.cli.simulate import app
from handoffs.domain.catalog import decode_record
from handoffs.simulator.firm import firm_stats, generate_firm
from handoffs.simulator.firm.files import write_firm


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    write_firm(generate_firm(5, "small"), tmp_path / "a")
    write_firm(generate_firm(5, "small"), tmp_path / "b")
    write_firm(generate_firm(6, "small"), tmp_path / "c")
    a, b, c = _tree(tmp_path / "a"), _tree(tmp_path / "b"), _tree(tmp_path / "c")
    assert a == b
    assert set(a) == set(c)
    assert a["firm.jsonl"] != c["firm.jsonl"]
    assert "seeds/harvest.json" in a and "stats.json" in a


def test_every_canonical_line_decodes_with_the_catalog(tmp_path: Path) -> None:
    paths = write_firm(generate_firm(5, "small"), tmp_path)
    kinds = set()
    for line in paths["firm"].read_text().splitlines():
        record = decode_record(json.loads(line))
        kinds.add(record.type)
    assert {"legal_entity", "customer", "contract", "resource", "time_entry", "expense", "payment"} <= kinds


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_firm_statistics_fall_in_the_required_ranges(seed: int) -> None:
    firm = generate_firm(seed, "small")
    stats = firm_stats(firm)
    assert 0.60 <= stats["time"]["utilisation"] <= 0.90
    assert stats["time"]["month_end_submission_share_min"] >= 0.40
    assert 0.01 <= stats["time"]["rejection_rate"] <= 0.12
    assert stats["time"]["resubmissions"] > 0
    assert stats["time"]["late_approvals"] > 0
    assert stats["time"]["outside_assignment_dates"] > 0
    assert stats["time"]["hours_internal"] != "0"
    assert len(stats["expenses"]["currency_mix"]) >= 4
    assert stats["expenses"]["over_policy"] > 0 and stats["expenses"]["missing_receipt"] > 0
    assert set(stats["contracts"]["billing_models"]) == {"time_and_materials", "fixed_fee", "milestone"}
    assert stats["receivables"]["payments"] > 0
    countries = {le.country for le in firm.legal_entities}
    assert countries == {"US", "GB", "DE"}
    rates = {t.id: str(t.rate) for t in firm.tax_codes}
    assert rates["tax-uk-std"] == "0.20" and rates["tax-de-std"] == "0.19" and rates["tax-us-exempt"] == "0"


def test_stats_are_measured_from_the_records() -> None:
    firm = generate_firm(4, "small")
    before = firm_stats(firm)["time"]["entries"]
    firm.time_entries.pop()
    assert firm_stats(firm)["time"]["entries"] == before - 1


def test_rate_cards_are_amended_mid_month_and_money_is_decimal_text(tmp_path: Path) -> None:
    firm = generate_firm(7, "default")
    amended = [c for c in firm.contracts if len(c.rate_card) > 1]
    assert amended and all(c.rate_card[1].effective_from.day > 1 for c in amended)
    line = next(
        ln
        for ln in write_firm(generate_firm(3, "small"), tmp_path)["firm"].read_text().splitlines()
        if '"type":"expense"' in ln
    )
    assert isinstance(json.loads(line)["amount"]["amount"], str)


def test_cli_firm_json_prints_the_stats(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["firm", "--seed", "7", "--size", "small", "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["counts"]["resource"] == 20
    assert (tmp_path / "firm.jsonl").exists()


def test_cli_rejects_an_unknown_size(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["firm", "--size", "huge", "--out", str(tmp_path)])
    assert result.exit_code != 0
