"""Closed periods per legal entity: nothing is posted into a closed period.

Rule: a posting dated in a closed period lands on the first day of the next open period of
the same legal entity, and the posting carries the reason. A period is closed when it is
on or before the entity's ``closed_through`` period, or is listed as closed explicitly
(``handoffs period close``), and not reopened explicitly (``handoffs period reopen``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from handoffs.domain.reference import LegalEntity
from handoffs.domain.rules import check_period

__all__ = ["PeriodCalendar", "Posting", "next_period", "period_of"]


def period_of(day: date) -> str:
    """The ``YYYY-MM`` period a day falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def next_period(period: str) -> str:
    """The period after ``period`` (``2026-12`` → ``2027-01``)."""
    check_period(period)
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + (month == 12):04d}-{month % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class Posting:
    """Where an item is posted: its period, its entry date and, when moved, why."""

    period: str
    entry_date: date
    reason: str | None = None

    @property
    def is_late(self) -> bool:
        """Whether the item was moved out of its own (closed) period."""
        return self.reason is not None


@dataclass(frozen=True, slots=True)
class PeriodCalendar:
    """The closed periods of each legal entity.

    Attributes:
        closed_through: per legal entity id, the last closed period (all before it are closed).
        closed: per legal entity id, further periods closed out of sequence.
        reopened: per legal entity id, periods a person reopened (open whatever the above say).
    """

    closed_through: Mapping[str, str] = field(default_factory=dict)
    closed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    reopened: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for period in self.closed_through.values():
            check_period(period, "closed_through")
        for periods in self.closed.values():
            for period in periods:
                check_period(period, "closed")

    @classmethod
    def from_entities(cls, entities: Iterable[LegalEntity]) -> PeriodCalendar:
        """A calendar from the legal entities' ``closed_through`` fields."""
        return cls({e.id: e.closed_through for e in entities if e.closed_through is not None})

    def with_closes(self, closes: Iterable[tuple[str, str, bool]]) -> PeriodCalendar:
        """This calendar with periods closed or reopened by a person: ``(entity, period, closed)``."""
        closed = {k: set(v) for k, v in self.closed.items()}
        reopened = {k: set(v) for k, v in self.reopened.items()}
        for entity, period, is_closed in closes:
            (closed if is_closed else reopened).setdefault(entity, set()).add(period)
            (reopened if is_closed else closed).get(entity, set()).discard(period)
        return PeriodCalendar(
            self.closed_through,
            {k: frozenset(v) for k, v in closed.items()},
            {k: frozenset(v) for k, v in reopened.items()},
        )

    def is_closed(self, legal_entity_id: str, period: str) -> bool:
        """Whether ``period`` is closed for the legal entity."""
        if period in self.reopened.get(legal_entity_id, frozenset()):
            return False
        through = self.closed_through.get(legal_entity_id)
        return (through is not None and period <= through) or period in self.closed.get(
            legal_entity_id, frozenset()
        )

    def posting_for(self, legal_entity_id: str, day: date, item: str = "item") -> Posting:
        """Where an item dated ``day`` is posted for the legal entity.

        Args:
            legal_entity_id: the entity whose calendar applies.
            day: the item's own date (invoice issue date, recognition date...).
            item: words naming the item, used in the reason (``"invoice INV-7"``).

        Returns:
            The item's own period and date when open; otherwise the first day of the next
            open period, with the reason recorded.
        """
        wanted = period_of(day)
        if not self.is_closed(legal_entity_id, wanted):
            return Posting(wanted, day)
        period = wanted
        while self.is_closed(legal_entity_id, period):
            period = next_period(period)
        first = date(int(period[:4]), int(period[5:7]), 1)
        reason = (
            f"closed period: {legal_entity_id} {wanted} is closed, so {item} dated {day.isoformat()} "
            f"is posted in the next open period {period} on {first.isoformat()}"
        )
        return Posting(period, first, reason)
