"""Daily time entries and their approval history.

Shape: consultants book their assignments' hours (with noise and absences) and fill the rest
of the day with internal time; a few book days just outside their assignment; most submit
at month end, some weekly, some late; approvers approve, sometimes late, and reject a few
lines, most of which are corrected and resubmitted.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from handoffs.domain.parties import Resource
from handoffs.domain.work import Assignment, TimeEntry
from handoffs.simulator.firm.deals import window
from handoffs.simulator.firm.model import Firm, TimeEvent
from handoffs.simulator.firm.names import DELIVERY_TASKS, INTERNAL_TASKS
from handoffs.simulator.firm.sizes import (
    add_working_days,
    last_working_days,
    month_working_days,
    working_days,
)

__all__ = ["build_time"]

_QUARTER = Decimal("0.25")
_HABITS: Final = ("weekly", "month_end", "late")
_REASONS: Final = ("wrong project", "notes missing", "hours look too high", "wrong task")


def _quarter(value: Decimal) -> Decimal:
    return (value / _QUARTER).to_integral_value() * _QUARTER


def _at(day: date, hour_from: int, hour_to: int, rng: random.Random) -> datetime:
    return datetime.combine(
        day, time(rng.randint(hour_from, hour_to), rng.randint(0, 59), rng.randint(0, 59)), UTC
    )


def build_time(firm: Firm, rng: random.Random) -> None:
    """Generate every time entry of the window with its created/submitted/approved history."""
    first, last = window(firm)
    days = working_days(first, last)
    by_person: dict[str, list[Assignment]] = {}
    for a in firm.assignments:
        by_person.setdefault(a.resource_id, []).append(a)
    cutoff = datetime.combine(firm.as_of, time(0), UTC)
    for person in firm.resources:
        submitted_on: dict[date, datetime] = {}
        habits: dict[tuple[int, int], str] = {}
        for day in days:
            week = day.isocalendar()[:2]
            if week not in habits:  # most weeks wait for month end, some are sent weekly or late
                habits[week] = rng.choices(_HABITS, (33, 55, 12))[0]
            habit = habits[week]
            if rng.random() < 0.04:
                continue  # absent
            for project_id, assignment, hours, task in _day_plan(
                person, by_person.get(person.id, []), day, rng
            ):
                entry_id = f"te-{len(firm.time_entries) + 1:07d}"
                due = _submission_day(habit, day, rng)
                if due not in submitted_on:
                    submitted_on[due] = _at(due, 16, 22, rng)
                entry = TimeEntry(
                    id=entry_id,
                    resource_id=person.id,
                    project_id=project_id,
                    work_date=day,
                    hours=hours,
                    role=assignment.role if assignment else person.role,
                    assignment_id=assignment.id if assignment else None,
                    billable=assignment is not None,
                    status="draft",
                    task=task,
                    notes=f"{task} {day.isoformat()}",
                )
                firm.time_entries.append(
                    _lifecycle(firm, entry, _at(day, 17, 20, rng), submitted_on[due], cutoff, rng)
                )


def _day_plan(
    person: Resource, assignments: list[Assignment], day: date, rng: random.Random
) -> list[tuple[str, Assignment | None, Decimal, str]]:
    daily = person.weekly_capacity_hours / 5
    plan: list[tuple[str, Assignment | None, Decimal, str]] = []
    booked = Decimal(0)
    for a in assignments:
        if a.covers(day):
            factor = Decimal(rng.randint(86, 108)) / Decimal(100)
            hours = max(_QUARTER, _quarter(a.hours_per_week / 5 * factor))
        elif _near(a, day) and rng.random() < 0.3:
            hours = _quarter(Decimal(rng.randint(2, 6)))  # booked outside the assignment's dates
        else:
            continue
        plan.append((a.project_id, a, hours, rng.choice(DELIVERY_TASKS)))
        booked += hours
    rest = _quarter(daily - booked)
    if rest >= _QUARTER:
        suffix = "presales" if rng.random() < 0.3 else "bench"
        task = "Pre-sales" if suffix == "presales" else rng.choice(INTERNAL_TASKS)
        plan.append((f"int-{person.legal_entity_id[3:]}-{suffix}", None, rest, task))
    return plan


def _near(a: Assignment, day: date) -> bool:
    before = timedelta(days=0) < a.start_date - day <= timedelta(days=4)
    after = a.end_date is not None and timedelta(days=0) < day - a.end_date <= timedelta(days=4)
    return before or after


def _submission_day(habit: str, day: date, rng: random.Random) -> date:
    month = day.replace(day=1)
    tail = last_working_days(month, 3)
    if habit == "weekly":
        friday = day + timedelta(days=4 - day.weekday())
        return friday if friday.month == day.month else tail[-1]
    if habit == "late":
        following = month_working_days((month + timedelta(days=32)).replace(day=1))
        return following[rng.choice((0, 0, 1, 2))]
    return rng.choices(tail, (20, 30, 50))[0] if day <= tail[-1] else tail[-1]


def _lifecycle(
    firm: Firm, entry: TimeEntry, created: datetime, submitted: datetime, cutoff: datetime, rng: random.Random
) -> TimeEntry:
    """Record the entry's events up to the cutoff and return it in its final state."""
    approver = firm.managers[entry.resource_id]
    created = min(created, submitted)
    events = [TimeEvent(entry.id, "created", created, entry.resource_id)]
    if submitted >= cutoff:
        firm.time_events.extend(events)
        return entry
    events.append(TimeEvent(entry.id, "submitted", submitted, entry.resource_id))
    status, hours, approved_at = "submitted", entry.hours, None
    delay = rng.choices((0, 1, 2, 3, 6, 9), (30, 30, 18, 10, 8, 4))[0]
    decided = _at(add_working_days(submitted.date(), delay), 9, 18, rng)
    decided = max(decided, submitted + timedelta(minutes=5))
    if rng.random() < 0.05 and decided < cutoff:
        events.append(TimeEvent(entry.id, "rejected", decided, approver, rng.choice(_REASONS)))
        status = "rejected"
        if rng.random() < 0.8:
            again = _at(add_working_days(decided.date(), rng.randint(1, 2)), 8, 12, rng)
            if again < cutoff:
                events.append(TimeEvent(entry.id, "resubmitted", again, entry.resource_id))
                status = "submitted"
                if rng.random() < 0.5 and hours > 1:
                    hours -= Decimal("0.5")
                decided = _at(add_working_days(again.date(), rng.randint(0, 2)), 13, 18, rng)
    if status == "submitted" and decided < cutoff:
        events.append(TimeEvent(entry.id, "approved", decided, approver))
        status, approved_at = "approved", decided
    firm.time_events.extend(events)
    return TimeEntry(
        id=entry.id,
        resource_id=entry.resource_id,
        project_id=entry.project_id,
        work_date=entry.work_date,
        hours=hours,
        role=entry.role,
        assignment_id=entry.assignment_id,
        billable=entry.billable,
        status=status,  # type: ignore[arg-type]
        approved_by=approver if approved_at else None,
        approved_at=approved_at,
        task=entry.task,
        notes=entry.notes,
    )
