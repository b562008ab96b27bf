"""Exports write one file per data product that reads back with the same rows; the CLI drives them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from handoffs.analytics import PRODUCTS
from handoffs.analytics.export import read_csv, read_parquet, write
from handoffs.cli.main import app
from tests.analytics.test_products import Firm, firm

__all__ = ["firm"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_reads_back_with_the_same_rows(firm: Firm, tmp_path: Path, fmt: str) -> None:
    products = firm.products()
    files = write(products.values(), tmp_path, fmt)
    assert sorted(f.name for f in files) == sorted(f"{name}.{fmt}" for name in PRODUCTS)
    for product, path in zip(products.values(), files, strict=True):
        rows = read_csv(path, product.columns) if fmt == "csv" else read_parquet(path)
        assert rows == product.rows, product.name
        assert rows, product.name  # the firm has data for every product


def test_cli_export_and_show(firm: Firm, tmp_path: Path) -> None:
    url = firm.hub.settings.database_url
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["analytics", "export", "--out", str(tmp_path), "--format", "parquet", "--period-from", "2026-01",
         "--period-to", "2026-02", "--entity", "LE-US", "--database-url", url, "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert set(summary) == set(PRODUCTS) and summary["utilisation"]["rows"] == 2
    assert len(read_parquet(Path(summary["utilisation"]["file"]))) == 2
    shown = runner.invoke(
        app, ["analytics", "show", "--database-url", url, "--json", "--period-to", "2026-02"]
    )
    assert shown.exit_code == 0, shown.output
    jan = next(r for r in orjson.loads(shown.stdout) if r["period"] == "2026-01")
    assert jan["legal_entity_id"] == "LE-US" and jan["straight_through_rate"] == "0.9750"
    table = runner.invoke(app, ["analytics", "show", "--database-url", url])
    assert table.exit_code == 0 and "LE-US" in table.stdout
    bad = runner.invoke(
        app, ["analytics", "export", "--out", str(tmp_path), "--format", "xlsx", "--database-url", url]
    )
    assert bad.exit_code != 0
