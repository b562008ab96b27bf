"""Write data products to CSV or Parquet (one file per product), and read them back.

CSV holds decimals as their exact text and an empty cell for "no value". Parquet holds
them as ``decimal128(38, scale)`` with the column's declared scale, so no amount becomes a
float on the way to a notebook or a warehouse. ``pyarrow`` is imported only when Parquet
is asked for, so the CLI starts fast.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from handoffs.analytics.base import Col, Product

__all__ = ["FORMATS", "read_csv", "read_parquet", "write"]

FORMATS = ("csv", "parquet")


def write(products: Iterable[Product], out: Path, fmt: str) -> list[Path]:
    """Write each product to ``out/<name>.<fmt>``; return the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for product in products:
        path = out / f"{product.name}.{fmt}"
        (_write_csv if fmt == "csv" else _write_parquet)(product, path)
        written.append(path)
    return written


def _write_csv(product: Product, path: Path) -> None:
    names = [c.name for c in product.columns]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for row in product.rows:
            writer.writerow(["" if row[n] is None else str(row[n]) for n in names])


def _arrow_type(col: Col) -> Any:
    import pyarrow as pa

    if col.kind == "int":
        return pa.int64()
    if col.kind == "dec":
        return pa.decimal128(38, col.scale)
    return pa.string()


def _write_parquet(product: Product, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(c.name, _arrow_type(c)) for c in product.columns])
    arrays = [pa.array([row[c.name] for row in product.rows], type=_arrow_type(c)) for c in product.columns]
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path)


def read_csv(path: Path, columns: tuple[Col, ...]) -> list[dict[str, Any]]:
    """Rows of a CSV export, typed by the product's columns."""
    kinds = {c.name: c.kind for c in columns}
    with path.open(newline="", encoding="utf-8") as f:
        return [{k: _parse(v, kinds[k]) for k, v in row.items()} for row in csv.DictReader(f)]


def _parse(value: str, kind: str) -> Any:
    if kind == "str":
        return value
    if value == "":
        return None
    return int(value) if kind == "int" else Decimal(value)


def read_parquet(path: Path) -> list[dict[str, Any]]:
    """Rows of a Parquet export (decimals come back as ``Decimal``)."""
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows
