"""Foreign exchange from a dated rate table.

Rule: a conversion on a day uses the rate with the latest ``effective_date`` on or before
that day. A direct quote (``base`` = from, ``quote`` = to) is preferred; when only the
opposite pair is quoted, its inverse is used (computed with 28 significant digits). When
neither is quoted, the cross rate through a currency quoted against both is used (firms
usually keep rates against one reporting currency only); the pivot is the first such
currency in alphabetical order, so the choice is the same on every run. The converted
amount is *not* rounded here: the caller rounds once, at the line amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from handoffs.domain.errors import NoEffectiveRate, ValidationError
from handoffs.domain.money import Money, check_currency
from handoffs.domain.reference import FxRate

__all__ = ["Conversion", "FxTable", "NoFxRate"]


class NoFxRate(NoEffectiveRate):
    """No FX rate for a currency pair is in force on the requested day."""


@dataclass(frozen=True, slots=True)
class Conversion:
    """One amount converted into another currency, with the rate that was used."""

    original: Money
    converted: Money  # full precision, not rounded
    rate: Decimal  # units of the target currency per unit of the original
    rate_id: str | None  # the FxRate record; None when no conversion was needed
    inverted: bool = False  # True when the rate is the inverse of a quoted rate


class FxTable:
    """An immutable table of dated FX rates."""

    __slots__ = ("_rates",)

    def __init__(self, rates: Iterable[FxRate] = ()) -> None:
        table: dict[tuple[str, str, date], FxRate] = {}
        for rate in rates:
            key = (rate.base, rate.quote, rate.effective_date)
            if key in table and table[key].rate != rate.rate:
                raise ValidationError(
                    "fx_rate",
                    f"FX table: {rate.base}/{rate.quote} has two rates on {rate.effective_date.isoformat()}",
                )
            table[key] = rate
        self._rates: tuple[FxRate, ...] = tuple(sorted(table.values(), key=lambda r: r.effective_date))

    def _latest(self, base: str, quote: str, day: date) -> FxRate | None:
        found = None
        for rate in self._rates:
            if rate.base == base and rate.quote == quote and rate.effective_date <= day:
                found = rate
        return found

    def _pair(self, base: str, quote: str, day: date) -> tuple[Decimal, FxRate, bool] | None:
        direct = self._latest(base, quote, day)
        inverse = self._latest(quote, base, day)
        if direct is not None and (inverse is None or direct.effective_date >= inverse.effective_date):
            return direct.rate, direct, False
        if inverse is not None:
            return Decimal(1) / inverse.rate, inverse, True
        return None

    def rate_on(self, base: str, quote: str, day: date) -> tuple[Decimal, FxRate, bool]:
        """The rate from ``base`` to ``quote`` in force on ``day``.

        Returns:
            ``(rate, record, inverted)``: units of ``quote`` per unit of ``base``, the FxRate
            record it came from, and whether that record quotes the opposite pair.

        Raises:
            NoFxRate: neither pair is quoted on or before ``day``.
        """
        check_currency(base, "base")
        check_currency(quote, "quote")
        found = self._pair(base, quote, day)
        if found is None:
            raise NoFxRate(f"FX rule: no {base}/{quote} rate in force on {day.isoformat()}")
        return found

    def cross_on(self, base: str, quote: str, day: date) -> tuple[Decimal, str, bool]:
        """Like :meth:`rate_on`, falling back to a cross rate through a pivot currency.

        Returns:
            ``(rate, rate_id, inverted)``; a cross rate's id names both legs (``A*B``).
        """
        check_currency(base, "base")
        check_currency(quote, "quote")
        found = self._pair(base, quote, day)
        if found is not None:
            return found[0], found[1].id, found[2]
        pivots = sorted({c for r in self._rates for c in (r.base, r.quote)} - {base, quote})
        for pivot in pivots:
            first, second = self._pair(base, pivot, day), self._pair(pivot, quote, day)
            if first is not None and second is not None:
                return first[0] * second[0], f"{first[1].id}*{second[1].id}", first[2] or second[2]
        raise NoFxRate(f"FX rule: no {base}/{quote} rate in force on {day.isoformat()} (nor a cross rate)")

    def convert(self, money: Money, currency: str, day: date) -> Conversion:
        """Convert ``money`` into ``currency`` at the rate in force on ``day`` (unrounded)."""
        if money.currency == currency:
            return Conversion(money, money, Decimal(1), None)
        rate, rate_id, inverted = self.cross_on(money.currency, currency, day)
        return Conversion(money, Money(money.amount * rate, currency), rate, rate_id, inverted)
