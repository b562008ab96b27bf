"""Temporary tables for one read: small inputs joined in SQL, or a large grouping given a key.

A set-based read sometimes needs rows that live in Python (rate cards as date ranges) or an
intermediate result with an index (the latest approval per entry). Both go in ``TEMPORARY``
tables declared on their own ``MetaData``: private to the connection, never in the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, MetaData

__all__ = ["analyze", "scratch"]


@contextmanager
def scratch(conn: Connection, tables: MetaData) -> Iterator[None]:
    """Create ``tables`` empty for the block, and drop them after it.

    Tables left over from a failed read on a pooled connection are dropped first, so no read
    ever sees another's rows. Fill them, then call :func:`analyze` before the big join.
    """
    tables.drop_all(conn)
    tables.create_all(conn)
    yield
    tables.drop_all(conn)


def analyze(conn: Connection, tables: MetaData) -> None:
    """Give the planner the tables' sizes: a join to a few rows then reads the big table by
    index instead of scanning it, and a join to many rows is never taken for a small one."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("ANALYZE temp")
    else:
        for table in tables.sorted_tables:
            conn.exec_driver_sql(f"ANALYZE {table.name}")
