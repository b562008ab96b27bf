"""Money: a ``Decimal`` amount with an ISO 4217 currency. Never a float.

Amounts keep full precision through arithmetic; rounding to the currency's minor unit
happens only where the caller asks for it (line amount, tax, total), with the rounding
mode of the legal entity (half-up by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

from handoffs.domain.errors import CurrencyMismatch, ValidationError

__all__ = [
    "MINOR_UNITS",
    "ROUNDING_MODES",
    "Money",
    "check_currency",
    "to_decimal",
]

# ISO 4217 active codes and their minor units (number of decimal places).
MINOR_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP "
        "BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
        "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT "
        "LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO "
        "NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE "
        "SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD "
        "YER ZAR ZMW ZWL".split(),
        2,
    ),
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    "CLF": 4,
    "UYW": 4,
}

ROUNDING_MODES: Final[dict[str, str]] = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def check_currency(code: str, field: str = "currency") -> str:
    """Return ``code`` if it is an active ISO 4217 code, else raise ValidationError."""
    if code not in MINOR_UNITS:
        raise ValidationError(field, f"{code!r} is not an ISO 4217 currency code")
    return code


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Convert an exact textual or integral value to Decimal; floats are refused."""
    if isinstance(value, (bool, float)):
        raise ValidationError(field, "must be a decimal string or integer, never a float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValidationError(field, f"{value!r} is not a decimal number") from None
    else:
        raise ValidationError(field, f"expected a decimal, got {type(value).__name__}")
    if not result.is_finite():
        raise ValidationError(field, "must be a finite number")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise ValidationError("amount", "Money needs a Decimal amount")
        if not self.amount.is_finite():
            raise ValidationError("amount", "must be a finite number")
        check_currency(self.currency)

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        """Build from a string, int or Decimal (never a float)."""
        return cls(to_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @property
    def minor_unit(self) -> int:
        return MINOR_UNITS[self.currency]

    def rounded(self, mode: str = "half_up") -> Money:
        """Round to the currency's minor unit (the documented rounding points only)."""
        quantum = Decimal(1).scaleb(-self.minor_unit)
        return Money(self.amount.quantize(quantum, rounding=ROUNDING_MODES[mode]), self.currency)

    def is_rounded(self) -> bool:
        return self.amount == self.rounded().amount

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float | bool) or not isinstance(factor, Decimal | int):
            raise TypeError("Money can only be multiplied by a Decimal or an int")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    @staticmethod
    def sum(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
        """Sum amounts of one currency; the empty sum is zero in ``currency``."""
        total = Money.zero(currency)
        for item in amounts:
            total = total + item
        return total
