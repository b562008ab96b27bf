from decimal import Decimal

import pytest

from handoffs.domain.errors import CurrencyMismatch, ValidationError
from handoffs.domain.money import Money, to_decimal


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="never a float"):
        to_decimal(0.1)
    with pytest.raises(ValidationError):
        Money(0.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of("1.00", "USD") * 1.5  # type: ignore[operator]


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money.of("1", "XYZ")


@pytest.mark.parametrize(
    ("amount", "currency", "mode", "expected"),
    [
        ("2.345", "USD", "half_up", "2.35"),
        ("2.345", "USD", "half_even", "2.34"),
        ("2.355", "USD", "half_even", "2.36"),
        ("-2.345", "EUR", "half_up", "-2.35"),
        ("1234.5", "JPY", "half_up", "1235"),
        ("1.0005", "KWD", "half_up", "1.001"),
    ],
)
def test_rounding_to_the_minor_unit(amount: str, currency: str, mode: str, expected: str) -> None:
    assert Money.of(amount, currency).rounded(mode).amount == Decimal(expected)


def test_arithmetic_keeps_full_precision_until_rounded() -> None:
    rate = Money.of("152.375", "GBP")
    assert (rate * Decimal("7.25")).amount == Decimal("1104.71875")
    assert (rate * Decimal("7.25")).rounded().amount == Decimal("1104.72")


def test_currencies_never_mix() -> None:
    with pytest.raises(CurrencyMismatch):
        Money.of("1", "USD") + Money.of("1", "EUR")
    with pytest.raises(CurrencyMismatch):
        Money.sum([Money.of("1", "USD")], "EUR")
    assert Money.sum([], "EUR") == Money.zero("EUR")
