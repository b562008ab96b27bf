"""Errors raised by the domain layer.

The tree::

    DomainError                      any rule of the canonical model was broken
     ├── ValidationError             a value or object is not acceptable (field + reason)
     ├── CurrencyMismatch            arithmetic across two currencies
     ├── NoEffectiveRate             no rate-card version or role rate covers a date
     └── UnbalancedJournal           debits differ from credits for a currency

Every error carries a plain-language message that a controller can read; none carries
secrets, since domain objects never hold any.
"""

from __future__ import annotations

__all__ = [
    "CurrencyMismatch",
    "DomainError",
    "NoEffectiveRate",
    "UnbalancedJournal",
    "ValidationError",
]


class DomainError(Exception):
    """Base class of every rule violation in the canonical model."""


class ValidationError(DomainError):
    """A field or object breaks a validation rule.

    Attributes:
        field: dotted path of the offending field (``"hours"``, ``"lines[2].amount"``).
        reason: what rule was broken, in words.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason

    def under(self, prefix: str) -> ValidationError:
        """The same error, re-rooted under a containing field."""
        path = f"{prefix}.{self.field}" if self.field else prefix
        return ValidationError(path, self.reason)


class CurrencyMismatch(DomainError):
    """Two amounts in different currencies were combined."""


class NoEffectiveRate(DomainError):
    """No rate applies to the requested role and date."""


class UnbalancedJournal(DomainError):
    """A journal entry whose debits and credits differ."""
