"""Every worked example of docs/billing-and-revenue.md, from its fixture to its expected figures."""

from __future__ import annotations

import json

import pytest
from billing_scenarios import EXAMPLES, FIXTURES, RUNS, expected

from handoffs.domain.catalog import decode_record

DESCRIPTIVE = {"example", "doc", "steps", "chart"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_worked_example_matches_its_hand_computed_figures(name: str) -> None:
    want = {k: v for k, v in expected(name).items() if k not in DESCRIPTIVE}
    assert RUNS[name]() == want


@pytest.mark.parametrize("name", EXAMPLES)
def test_fixture_is_canonical_json_lines(name: str) -> None:
    lines = (FIXTURES / f"{name}.jsonl").read_text().splitlines()
    assert lines
    for raw in lines:
        data = json.loads(raw)
        assert "type" in data
        decode_record(data)


def test_every_example_is_documented() -> None:
    doc = (FIXTURES.parents[2] / "docs" / "billing-and-revenue.md").read_text()
    for name in EXAMPLES:
        assert f"tests/fixtures/billing/{name}.jsonl" in doc
