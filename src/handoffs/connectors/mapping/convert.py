"""Value conversions a mapping declares: types, date formats, durations, decimal commas.

Real exports write the same fact many ways: ``14/01/2026`` or ``2026-01-14``, ``1:30`` or
``90m`` or ``1.5h`` or ``1,5``, ``1.234,50`` in a German spreadsheet. A field rule names
the way its system writes it (``format``, ``decimal``, ``unit``, ``timezone``) and these
functions read it, raising ``ValueError`` with a sentence for a person when a value does not
fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["DURATION_UNITS", "TYPES", "Conversion", "convert", "parse_duration"]

TYPES = ("str", "int", "decimal", "date", "datetime", "bool", "duration")
DURATION_UNITS = {"hours": Decimal(1), "minutes": Decimal(60), "seconds": Decimal(3600)}
HOURS_PLACES = Decimal("0.0001")  # a time entry holds hours to 4 decimals: 1:20 is 1.3333 h
_CLOCK = re.compile(r"^(\d+):([0-5]?\d)(?::([0-5]?\d))?$")
_PARTS = re.compile(r"(\d+(?:\.\d+)?)\s*(hours?|hrs|hr|h|minutes?|mins|min|m|seconds?|secs|sec|s)\b")
_UNIT_OF = {"h": "hours", "m": "minutes", "s": "seconds"}
_COMMA_NUMBER = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


@dataclass(frozen=True, slots=True)
class Conversion:
    """How one field's text is read (all optional; the defaults read ISO dates and ``1.5``)."""

    type: str
    formats: tuple[str, ...] = ()  # strptime formats for date and datetime, tried in order
    decimal: str = "."  # the decimal separator: "," for 1.234,50
    unit: str = "hours"  # what a bare number means for a duration
    timezone: str | None = None  # the zone of a datetime written without an offset


def _number_text(value: Any, decimal: str) -> str:
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if decimal != ",":
        return text
    if not _COMMA_NUMBER.match(text):  # "1.5" in a decimal-comma export is refused, not read as 15
        raise ValueError(f"{value!r} is not a number written with a decimal comma (1.234,50)")
    return text.replace(".", "").replace(",", ".")


def _decimal(value: Any, decimal: str) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError(f"{value!r} is not an exact decimal")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    try:
        return Decimal(_number_text(value, decimal))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal") from None


def parse_duration(value: Any, decimal: str = ".", unit: str = "hours") -> Decimal:
    """Hours in a duration: ``1:30``, ``1:30:00``, ``90m``, ``1.5h``, ``1h 30m``, or a number of ``unit``."""
    if isinstance(value, bool | float):
        raise ValueError(f"{value!r} is not an exact duration")
    text = str(value).strip().lower()
    clock = _CLOCK.match(text)
    if clock:
        h, m, s = (int(g or 0) for g in clock.groups())
        hours = Decimal(h) + Decimal(m) / 60 + Decimal(s) / 3600
    else:
        spelled = text.replace(",", ".") if decimal == "," else text
        parts = _PARTS.findall(spelled)
        if parts and _PARTS.sub("", spelled).strip() == "":
            hours = sum(
                (Decimal(n) / DURATION_UNITS[_UNIT_OF[u[0]]] for n, u in parts),
                Decimal(0),
            )
        else:
            try:
                hours = _decimal(value, decimal) / DURATION_UNITS[unit]
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a duration (use 1:30, 90m, 1.5h, 1h 30m or a number of {unit})"
                ) from None
    return hours.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def _date(value: Any, formats: tuple[str, ...]) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not formats:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise ValueError(f"{value!r} is not a date YYYY-MM-DD (declare its format)") from None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} does not match the date format {' or '.join(formats)}")


def _datetime(value: Any, formats: tuple[str, ...], zone: str | None) -> datetime:
    text = str(value).strip()
    moment: datetime | None = None
    if not formats:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp (declare its format)") from None
    for fmt in formats:
        try:
            moment = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if moment is None:
        raise ValueError(f"{value!r} does not match the datetime format {' or '.join(formats)}")
    if moment.tzinfo is None:
        if zone is None:
            raise ValueError(f"{value!r} has no UTC offset (declare the export's timezone)")
        where: tzinfo = UTC if zone.upper() == "UTC" else ZoneInfo(zone)
        moment = moment.replace(tzinfo=where)
    return moment


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y"):
        return True
    if text in ("false", "no", "0", "n", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


def convert(how: Conversion, value: Any) -> Any:
    """``value`` read as ``how`` says; ``ValueError`` naming the value when it does not fit."""
    kind = how.type
    if kind == "str":
        return str(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not an integer")
        return int(value) if not isinstance(value, str) else int(_number_text(value, how.decimal))
    if kind == "decimal":
        return _decimal(value, how.decimal)
    if kind == "duration":
        return parse_duration(value, how.decimal, how.unit)
    if kind == "date":
        return _date(value, how.formats)
    if kind == "datetime":
        return _datetime(value, how.formats, how.timezone)
    if kind == "bool":
        return _bool(value)
    raise ValueError(f"unknown type {kind}")
