"""Business priority from money at risk and days to the close (docs/runbooks.md#priority)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from handoffs.domain.errors import DomainError
from handoffs.domain.priority import PriorityScale, business_priority, close_date, cutoff
from handoffs.domain.reference import LegalEntity


def test_a_period_closes_on_the_nth_working_day_of_the_next_month() -> None:
    assert close_date("2026-01", 3) == date(2026, 2, 4)  # 1 Feb 2026 is a Sunday
    assert close_date("2026-02", 1) == date(2026, 3, 2)  # 1 Mar is a Sunday: Monday 2nd
    assert close_date("2026-12", 5) == date(2027, 1, 7)  # year end
    assert close_date("2026-01") == close_date("2026-01", 5)  # the default


def test_the_cutoff_moves_to_the_next_close_once_a_close_has_passed() -> None:
    assert cutoff("2026-01", date(2026, 1, 20), 3) == date(2026, 2, 4)
    assert cutoff("2026-01", date(2026, 2, 4), 3) == date(2026, 2, 4)  # the closing day itself
    assert cutoff("2026-01", date(2026, 2, 5), 3) == date(2026, 3, 4)  # missed: February's close


@pytest.mark.parametrize(
    ("money", "days", "base", "expected"),
    [
        ("12000.00", 4, 4, 1),  # 3,000 a day
        ("150.00", 10, 4, 3),  # 15 a day
        ("150.00", 1, 4, 2),  # the day before close
        ("150.00", 0, 4, 2),  # on the closing day: counts as one day
        ("5.00", 30, 4, 4),
        ("0", 2, 2, 2),  # no amount priced: the category's priority stands
        ("0", 2, 3, 3),
        ("999.99", 1, 4, 2),
        ("1000", 1, 4, 1),
        ("-50", 1, 4, 4),  # a credit is not money at risk
    ],
)
def test_priority_from_money_per_day_left_never_below_the_base(
    money: str, days: int, base: int, expected: int
) -> None:
    assert business_priority(Decimal(money), days, base=base) == expected


def test_the_scale_is_configurable() -> None:
    scale = PriorityScale(p1=Decimal(10), p2=Decimal(5), p3=Decimal(1))
    assert business_priority(Decimal(50), 5, scale=scale) == 1


def test_a_legal_entity_closes_on_a_working_day_it_can_have() -> None:
    le = LegalEntity(id="LE-US", name="US", country="US", currency="USD", close_working_day=3)
    assert le.close_working_day == 3
    with pytest.raises(DomainError):
        LegalEntity(id="LE-US", name="US", country="US", currency="USD", close_working_day=0)
