"""Business priority of an exception: the money it holds up and the days left to the close.

Rule. Each legal entity closes a period on the n-th working day (Monday to Friday) of the
following month (``LegalEntity.close_working_day``, :data:`DEFAULT_CLOSE_WORKING_DAY` when
unset). An exception's *cutoff* is the close of the period its work, invoice or expense
belongs to; once that close has passed, the item can only make the next close, so the cutoff
is the first close on or after today. ``days_to_close`` counts calendar days from today to
the cutoff (0 on the closing day).

The money at risk per day left is ``money_at_risk / max(days_to_close, 1)``, in the legal
entity's currency. Priority 1 (act today) when it is at least 1,000; 2 from 100; 3 from 10;
4 below. An exception never ranks below the priority its category gave it when it was opened
(``base``): a failed ERP posting stays at least 2 even when no amount could be priced.

Examples: a 12,000.00 invoice whose posting failed, 4 days before close: 3,000/day, 1. One
approved hour at 150.00 blocked 10 days before close: 15/day, 3; the day before close:
150/day, 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from handoffs.domain.rules import check_period

__all__ = [
    "DEFAULT_CLOSE_WORKING_DAY",
    "PriorityScale",
    "business_priority",
    "close_date",
    "cutoff",
]

DEFAULT_CLOSE_WORKING_DAY = 5


@dataclass(frozen=True, slots=True)
class PriorityScale:
    """Money at risk per day left to the close at which priorities 1, 2 and 3 begin."""

    p1: Decimal = Decimal(1000)
    p2: Decimal = Decimal(100)
    p3: Decimal = Decimal(10)


def close_date(period: str, working_day: int | None = None) -> date:
    """The day ``period`` closes: the ``working_day``-th weekday of the following month."""
    check_period(period)
    n = DEFAULT_CLOSE_WORKING_DAY if working_day is None else working_day
    if n < 1:
        raise ValueError("working_day must be 1 or more")
    year, month = int(period[:4]), int(period[5:7])
    day = date(year + (month == 12), month % 12 + 1, 1)
    counted = 0
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted == n:
                return day
        day += timedelta(days=1)


def cutoff(period: str, today: date, working_day: int | None = None) -> date:
    """The first close of ``period`` or a later period that falls on or after ``today``."""
    day = close_date(period, working_day)
    while day < today:
        year, month = int(period[:4]), int(period[5:7])
        period = f"{year + (month == 12):04d}-{month % 12 + 1:02d}"
        day = close_date(period, working_day)
    return day


def business_priority(
    money_at_risk: Decimal,
    days_to_close: int,
    *,
    base: int = 4,
    scale: PriorityScale | None = None,
) -> int:
    """1 (act today) to 4 (when convenient), from the money at risk per day left to the close.

    Args:
        money_at_risk: what the exception holds up, in the legal entity's currency (0 if unknown).
        days_to_close: calendar days from today to the cutoff (negative counts as 0).
        base: the priority the exception was opened with; the result is never lower.
        scale: the thresholds (defaults: 1,000, 100 and 10 per day).
    """
    s = scale or PriorityScale()
    per_day = max(money_at_risk, Decimal(0)) / max(days_to_close, 1)
    if per_day >= s.p1:
        derived = 1
    elif per_day >= s.p2:
        derived = 2
    elif per_day >= s.p3:
        derived = 3
    else:
        derived = 4
    return max(1, min(derived, base, 4))
