"""Foreign exchange from a dated rate table.

Rule: a conversion on a day uses the rate with the latest ``effective_date`` on or before
that day. A direct quote (``base`` = from, ``quote`` = to) is preferred; when only the
opposite pair is quoted, its inverse is used (computed with 28 significant digits). The
converted amount is *not* rounded here: the caller rounds once, at the line amount.
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
        direct = self._latest(base, quote, day)
        inverse = self._latest(quote, base, day)
        if direct is not None and (inverse is None or direct.effective_date >= inverse.effective_date):
            return direct.rate, direct, False
        if inverse is not None:
            return Decimal(1) / inverse.rate, inverse, True
        raise NoFxRate(f"FX rule: no {base}/{quote} rate in force on {day.isoformat()}")

    def convert(self, money: Money, currency: str, day: date) -> Conversion:
        """Convert ``money`` into ``currency`` at the rate in force on ``day`` (unrounded)."""
        if money.currency == currency:
            return Conversion(money, money, Decimal(1), None)
        rate, record, inverted = self.rate_on(money.currency, currency, day)
        return Conversion(money, Money(money.amount * rate, currency), rate, record.id, inverted)
