"""Column types that keep money exact and timestamps in UTC on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Float, Integer, Numeric, String, cast, func, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["Dec", "UtcDateTime", "exact_sum", "read_exact_sum"]

_SUM_SCALE = 10_000  # four decimal places: the finest the canonical model allows (hours, rates, money)


class Dec(TypeDecorator[Decimal]):
    """An exact decimal: PostgreSQL NUMERIC; SQLite TEXT (SQLite has no exact decimal type)."""

    impl = String(48)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(48))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money and hours are never floats")
        return Decimal(value) if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


def exact_sum(col: Any, dialect: str) -> ColumnElement[Any]:
    """An exact SUM of a :class:`Dec` column (read the result with :func:`read_exact_sum`).

    PostgreSQL sums NUMERIC. SQLite keeps decimals as text, where a plain SUM would be a float,
    so it sums whole ten-thousandths instead: a value of at most four decimals converts to its
    exact integer, and the integer sum is exact.
    """
    if dialect == "postgresql":
        return func.sum(col)
    return func.sum(cast(func.round(type_coerce(col, Float) * _SUM_SCALE), Integer))


def read_exact_sum(value: Any, dialect: str) -> Decimal:
    """The Decimal an :func:`exact_sum` returned (0 for the sum of no rows)."""
    if value is None:
        return Decimal(0)
    if dialect == "postgresql":
        return Decimal(value)
    return Decimal(int(value)).scaleb(-4)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        result: datetime = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return result
