"""Bulk inserts and updates through the driver, with values converted by the columns' own types.

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

__all__ = ["insert_many", "insert_returning", "update_many"]

_ROWS_PER_STATEMENT = 500  # multi-row VALUES: 500 rows of <= 20 columns stay under every bind limit


@dataclass(frozen=True, slots=True)
class _Plan:
    table: str  # the quoted table name
    columns: tuple[str, ...]  # quoted column names
    mark: str  # the driver's positional placeholder
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)

    def fixed(self, start: int, values: Sequence[Any]) -> tuple[Any, ...]:
        """``values`` of the columns from position ``start`` on, converted."""
        out = list(values)
        for i, processor in self.convert:
            if start <= i < start + len(out):
                out[i - start] = processor(out[i - start])
        return tuple(out)

    def rows(
        self, rows: Sequence[Sequence[Any]], before: tuple[Any, ...] = (), after: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        """Each row between the (already converted) values that are the same on every row."""
        start, end = len(before), len(before) + len(rows[0] if rows else ())
        per_row = [(i - start, p) for i, p in self.convert if start <= i < end]
        if not per_row:
            return [(*before, *row, *after) for row in rows]
        out = []
        for row in rows:
            values = list(row)
            for i, processor in per_row:
                values[i] = processor(values[i])
            out.append((*before, *values, *after))
        return out


_PLANS: dict[tuple[str, str, tuple[str, ...]], _Plan] = {}


def _plan(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Plan:
    """How to pass values for ``columns`` (in this order) of ``table`` to the driver."""
    key = (dialect.name, table.name, columns)
    plan = _PLANS.get(key)
    if plan is None:
        if dialect.paramstyle == "qmark":
            mark = "?"
        elif dialect.paramstyle in ("format", "pyformat"):
            mark = "%s"
        else:
            raise NotImplementedError(f"bulk statements do not support the {dialect.paramstyle} style")
        convert = []
        for i, name in enumerate(columns):
            processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                convert.append((i, processor))
        preparer = dialect.identifier_preparer
        plan = _PLANS[key] = _Plan(
            table=preparer.format_table(table),
            columns=tuple(preparer.quote(c) for c in columns),
            mark=mark,
            convert=tuple(convert),
        )
    return plan


def _insert_head(plan: _Plan) -> str:
    return f"INSERT INTO {plan.table} ({', '.join(plan.columns)}) VALUES "


def _one_row(plan: _Plan) -> str:
    return "(" + ", ".join(plan.mark for _ in plan.columns) + ")"


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
    values = plan.rows(rows, after=plan.fixed(len(columns), list(constants.values())))
    conn.exec_driver_sql(_insert_head(plan) + _one_row(plan), values)


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
    values = plan.rows(rows, after=plan.fixed(len(columns), list(constants.values())))
    head, one_row = _insert_head(plan), _one_row(plan)
    found: list[Any] = []
    for start in range(0, len(values), _ROWS_PER_STATEMENT):
        chunk = values[start : start + _ROWS_PER_STATEMENT]
        sql = head + ", ".join([one_row] * len(chunk)) + tail
        found.extend(conn.exec_driver_sql(sql, tuple(v for row in chunk for v in row)).all())
    return found


def update_many(
    conn: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Set ``columns`` (and ``constants``) of the row whose ``key`` is each row's last value.

    ``rows`` are tuples of the new values in ``columns`` order followed by the key.
    """
    if not rows:
        return
    constants = constants or {}
    plan = _plan(conn.dialect, table, (*constants, *columns, key))
    sets = ", ".join(f"{c} = {plan.mark}" for c in plan.columns[:-1])
    sql = f"UPDATE {plan.table} SET {sets} WHERE {plan.columns[-1]} = {plan.mark}"
    conn.exec_driver_sql(sql, plan.rows(rows, before=plan.fixed(0, list(constants.values()))))
