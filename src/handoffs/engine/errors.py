"""Failure classes that decide what the engine does with a message that failed.

The tree::

    HandoffsFailure
     ├── TransientError      retried with exponential backoff and jitter
     │    └── RateLimited    a 429 or an empty token bucket; carries retry_after
     │    └── CircuitOpen    the system's breaker is open; carries retry_after
     │    └── Uncertain      a write whose answer never came: it may have happened
     │                       (never simply sent again: see handoffs.engine.uncertain)
     │    └── Waiting        the system answered, the outcome is not there yet (a job
     │                       still running, an uncertain write settling): not an outage
     │    └── DeliveryFailed an event did not reach one subscriber; a generic reason only
     └── TerminalError       never retried: becomes an exception (dead letter) with payload

Errors from the domain layer (``handoffs.domain.errors.DomainError``) are terminal: data
that breaks a rule does not get better by trying again. Anything unclassified is retried
like a transient error and dead-lettered when the attempts run out, with its class name and
message kept, so nothing is ever logged and dropped.
"""

from __future__ import annotations

__all__ = [
    "CircuitOpen",
    "DeliveryFailed",
    "HandoffsFailure",
    "RateLimited",
    "TerminalError",
    "TransientError",
    "Uncertain",
    "Waiting",
]


class HandoffsFailure(Exception):
    """Base of the engine's failure classes.

    Args:
        message: safe to show a person: never holds a secret.
        category: the exception category used when it is dead-lettered.
    """

    category = "failure"

    def __init__(self, message: str, *, category: str | None = None) -> None:
        super().__init__(message)
        if category is not None:
            self.category = category


class TransientError(HandoffsFailure):
    """May succeed later: a timeout, a 5xx, a lock, a missing record not yet arrived."""

    category = "transient"

    def __init__(self, message: str, *, retry_after: float | None = None, category: str | None = None):
        super().__init__(message, category=category)
        self.retry_after = retry_after


class RateLimited(TransientError):
    category = "rate_limited"


class CircuitOpen(TransientError):
    category = "circuit_open"


class Uncertain(TransientError):
    """A write was sent and no answer came (timeout, reset, 5xx after the body was sent)."""

    category = "uncertain"


class Waiting(TransientError):
    """Look again later: the system is up, what was asked of it has not finished or shown yet.

    The circuit breaker counts it as an answer, not a failure.
    """

    category = "waiting"


class DeliveryFailed(TransientError):
    """An event did not reach a subscriber: ``HTTP 500``, ``connection failed``...

    The message is what the delivery records and shows its subscriber, so it never holds
    the subscriber's answer or a resolver's or socket's own text.
    """

    category = "delivery_failed"


class TerminalError(HandoffsFailure):
    """Will not succeed by retrying: validation failed, a 4xx, a rule was broken."""

    category = "terminal"
