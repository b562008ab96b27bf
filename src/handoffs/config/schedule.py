"""When a source system is pulled: ``schedule:`` in ``handoffs.yaml``.

::

    systems:
      harvest:
        schedule: {every: 15m}            # an interval: 30s, 15m, 2h, 1d (or 1h30m)
      salesforce:
        schedule: {cron: "*/10 7-19 * * 1-5"}   # a cron expression, in UTC

A pull is due when the system has never been pulled, or when the next time after the
start of its last pull (``sync_runs``, shared by every worker) has come. Intervals are
counted from the last start, so a slow pull does not make the next one come sooner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter

__all__ = ["Schedule", "parse_interval", "parse_schedule"]

_PART = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_interval(text: str) -> timedelta:
    """``"15m"`` → 15 minutes; parts combine (``"1h30m"``); a bare number is seconds."""
    value = str(text).strip().lower()
    if value.replace(".", "", 1).isdigit():
        seconds = float(value)
    else:
        parts = _PART.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise ValueError(f"an interval is a number and a unit, such as 30s, 15m, 2h or 1d, not {text!r}")
        seconds = sum(timedelta(**{_UNITS[u]: int(n)}).total_seconds() for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"an interval must be longer than nothing, not {text!r}")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Pull every ``every``, or at the times ``cron`` names (UTC)."""

    every: timedelta | None = None
    cron: str | None = None

    def next_after(self, last: datetime) -> datetime:
        """The first time a pull is due after one that started at ``last`` (aware, UTC)."""
        if self.every is not None:
            return last + self.every
        nxt: datetime = croniter(str(self.cron), last).get_next(datetime)
        return nxt

    def due(self, last_started: datetime | None, now: datetime) -> bool:
        return last_started is None or self.next_after(last_started) <= now

    def describe(self) -> str:
        return f"every {self.every}" if self.every is not None else f"cron {self.cron}"


def parse_schedule(value: Any) -> Schedule:
    """A system's ``schedule`` entry; raises ``ValueError`` saying what is wrong."""
    if not isinstance(value, dict) or len(value) != 1 or not set(value) <= {"every", "cron"}:
        raise ValueError("schedule must be {every: 15m} or {cron: '*/15 * * * *'}")
    if "every" in value:
        return Schedule(every=parse_interval(value["every"]))
    expression = str(value["cron"])
    if not croniter.is_valid(expression):
        raise ValueError(
            f"schedule cron {expression!r} is not a cron expression (minute hour day month weekday)"
        )
    return Schedule(cron=expression)
