"""Firm sizes and the working-day calendar the generator uses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

__all__ = [
    "SIZES",
    "FirmSize",
    "add_working_days",
    "last_working_days",
    "month_starts",
    "size_named",
    "working_days",
]


@dataclass(frozen=True, slots=True)
class FirmSize:
    """How big a generated firm is and which months it covers."""

    name: str
    consultants: int
    clients: int
    projects: int
    legal_entities: int = 3
    months: int = 1
    start: date = date(2025, 3, 1)

    def __post_init__(self) -> None:
        if not 1 <= self.legal_entities <= 3:
            raise ValueError("legal_entities must be 1, 2 or 3")
        if self.consultants < 3 or self.clients < 1 or self.projects < self.clients or self.months < 1:
            raise ValueError("a firm needs 3+ consultants, 1+ clients, projects >= clients, 1+ months")
        if self.start.day != 1:
            raise ValueError("start must be the first day of a month")


SIZES: Final[dict[str, FirmSize]] = {
    "small": FirmSize("small", consultants=20, clients=6, projects=8),
    "default": FirmSize("default", consultants=150, clients=30, projects=45),
    "large": FirmSize("large", consultants=1000, clients=160, projects=300),
}


def size_named(name: str, **overrides: int | date | None) -> FirmSize:
    """The preset ``name`` with any non-None override (consultants, clients, months...)."""
    if name not in SIZES:
        raise ValueError(f"unknown size {name!r}; choose one of {', '.join(SIZES)}")
    changes = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(SIZES[name], **changes)  # type: ignore[arg-type]


def month_starts(start: date, months: int) -> list[date]:
    """The first day of ``months`` consecutive months from ``start``."""
    result = []
    year, month = start.year, start.month
    for _ in range(months):
        result.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def next_month(first: date) -> date:
    return month_starts(first, 2)[1]


def working_days(first: date, last: date) -> list[date]:
    """Monday-to-Friday days from ``first`` to ``last`` inclusive (no public holidays)."""
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def month_working_days(first: date) -> list[date]:
    return working_days(first, next_month(first) - timedelta(days=1))


def last_working_days(first: date, count: int = 3) -> list[date]:
    """The last ``count`` working days of the month starting on ``first``."""
    return month_working_days(first)[-count:]


def add_working_days(day: date, count: int) -> date:
    """``day`` moved forward by ``count`` working days (0 keeps a working day as is)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day
