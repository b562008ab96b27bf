"""Bulk inserts through the driver, with values converted by the columns' own types.

For an executemany, SQLAlchemy builds and converts a parameter dictionary per row; for the
hub's largest inserts (time entries, messages, work rows) that costs more than the insert
itself. Here the statement is rendered once per table and column list, and only columns
whose type converts values (timestamps, decimals, dates, booleans) are converted, by the
bind processors SQLAlchemy itself would use, so stored values are the same on SQLite and
PostgreSQL. Statements run through ``Connection.exec_driver_sql``: they share the unit of
work's transaction and fail with SQLAlchemy's exceptions (``IntegrityError``...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

__all__ = ["insert_many", "insert_returning"]

_ROWS_PER_STATEMENT = 500  # multi-row VALUES: 500 rows of <= 20 columns stay under every bind limit


@dataclass(frozen=True, slots=True)
class _Plan:
    head: str  # INSERT INTO t (a, b, c) VALUES
    one_row: str  # (?, ?, ?)
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)


_PLANS: dict[tuple[str, str, tuple[str, ...]], _Plan] = {}


def _plan(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Plan:
    key = (dialect.name, table.name, columns)
    plan = _PLANS.get(key)
    if plan is None:
        if dialect.paramstyle == "qmark":
            mark = "?"
        elif dialect.paramstyle in ("format", "pyformat"):
            mark = "%s"
        else:
            raise NotImplementedError(f"bulk inserts do not support the {dialect.paramstyle} style")
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in columns)
        convert = []
        for i, name in enumerate(columns):
            processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                convert.append((i, processor))
        plan = _PLANS[key] = _Plan(
            head=f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES ",
            one_row="(" + ", ".join(mark for _ in columns) + ")",
            convert=tuple(convert),
        )
    return plan


def _converted(
    plan: _Plan, n: int, rows: Sequence[Sequence[Any]], constants: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Rows of ``n`` values with the constants appended, every value converted for the driver."""
    convert = plan.convert
    tail = tuple(constants)
    if tail:  # converted once, not once per row
        converted_tail = list(tail)
        for i, processor in convert:
            if i >= n:
                converted_tail[i - n] = processor(tail[i - n])
        tail = tuple(converted_tail)
    per_row = [(i, p) for i, p in convert if i < n]
    if not per_row:
        return [(*row, *tail) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for i, processor in per_row:
            values[i] = processor(values[i])
        out.append((*values, *tail))
    return out


def insert_many(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) with one executemany.

    ``constants`` are columns with the same value on every row (a timestamp of the unit of
    work), converted once.
    """
    if not rows:
        return
    constants = constants or {}
    plan = _plan(conn.dialect, table, (*columns, *constants))
    values = _converted(plan, len(columns), rows, list(constants.values()))
    conn.exec_driver_sql(plan.head + plan.one_row, values)


def insert_returning(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str],
    constants: Mapping[str, Any] | None = None,
    *,
    skip_conflicts: bool = False,
) -> list[Any]:
    """Insert ``rows`` in multi-row statements and return ``returning`` of each row inserted.

    With ``skip_conflicts`` a row that breaks a unique key is skipped (``ON CONFLICT DO
    NOTHING``) and returns nothing. Rows come back in no particular order.
    """
    if not rows:
        return []
    constants = constants or {}
    plan = _plan(conn.dialect, table, (*columns, *constants))
    quote = conn.dialect.identifier_preparer.quote
    tail = (
        (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
        + " RETURNING "
        + ", ".join(quote(c) for c in returning)
    )
    values = _converted(plan, len(columns), rows, list(constants.values()))
    found: list[Any] = []
    for start in range(0, len(values), _ROWS_PER_STATEMENT):
        chunk = values[start : start + _ROWS_PER_STATEMENT]
        sql = plan.head + ", ".join([plan.one_row] * len(chunk)) + tail
        found.extend(conn.exec_driver_sql(sql, tuple(v for row in chunk for v in row)).all())
    return found
