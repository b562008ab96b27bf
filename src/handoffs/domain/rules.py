"""Small validation helpers shared by the canonical objects."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from handoffs.domain.errors import ValidationError
from handoffs.domain.money import Money

__all__ = ["check_id", "check_non_negative", "check_period", "check_range", "require"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-/]{0,127}$")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def require(condition: bool, field: str, reason: str) -> None:
    """Raise ValidationError(field, reason) unless ``condition`` holds."""
    if not condition:
        raise ValidationError(field, reason)


_KNOWN_IDS: set[str] = set()  # ids already found valid: references repeat across every record
_KNOWN_IDS_MAX = 50_000


def check_id(value: str, field: str = "id") -> None:
    if type(value) is str and value in _KNOWN_IDS:
        return
    require(
        isinstance(value, str) and bool(_ID.match(value)),
        field,
        "must be 1-128 characters of letters, digits and . _ : - /, starting alphanumeric",
    )
    if len(_KNOWN_IDS) < _KNOWN_IDS_MAX:
        _KNOWN_IDS.add(value)


def check_period(value: str, field: str = "period") -> None:
    require(isinstance(value, str) and bool(_PERIOD.match(value)), field, "must be YYYY-MM")


def check_non_negative(value: Money | Decimal, field: str) -> None:
    amount = value.amount if isinstance(value, Money) else value
    require(amount >= 0, field, "must not be negative")


def check_range(start: date, end: date | None, field: str = "end_date") -> None:
    require(end is None or end >= start, field, "must not be before the start date")
