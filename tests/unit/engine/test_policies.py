"""The engine's pure policies: backoff, token bucket, circuit breaker, handler registry."""

import random

import pytest

from handoffs.domain.messages import GenerateInvoice, TimeEntryApproved
from handoffs.engine.breaker import BreakerPolicy, BreakerState, after_call, before_call, hold
from handoffs.engine.ratelimit import RateLimit, take_token
from handoffs.engine.registry import Handler, Registry
from handoffs.engine.retry import Backoff


def test_backoff_grows_is_capped_jittered_and_honours_retry_after() -> None:
    b = Backoff(base=1, cap=8, floor=0.01, max_attempts=5)
    rng = random.Random(1)
    delays = [b.delay(n, rng) for n in range(1, 8) for _ in range(50)]
    assert max(delays) <= 8 and min(delays) >= 0.01
    assert len({round(d, 3) for d in delays}) > 100  # jitter, not a fixed schedule
    assert all(b.delay(1, rng, retry_after=30) >= 30 for _ in range(10))
    assert not b.exhausted(4) and b.exhausted(5)


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    limit = RateLimit(rate=2, burst=3)
    state = None
    waits = []
    for _ in range(4):
        state, wait = take_token(limit, state, now=100.0)
        waits.append(wait)
    assert waits[:3] == [0, 0, 0] and waits[3] == pytest.approx(0.5)
    state, wait = take_token(limit, state, now=100.5)
    assert wait == 0


def test_breaker_opens_after_repeated_failures_and_half_opens_after_cooldown() -> None:
    policy = BreakerPolicy(threshold=3, cooldown=10)
    s = BreakerState()
    for t in range(3):
        s, wait = before_call(policy, s, float(t))
        assert wait == 0
        s = after_call(policy, s, ok=False, now=float(t))
    assert s.state == "open"
    _, wait = before_call(policy, s, 5.0)
    assert wait == pytest.approx(7.0)
    s, wait = before_call(policy, s, 12.5)
    assert (s.state, wait) == ("half_open", 0)
    assert after_call(policy, s, ok=False, now=12.6).state == "open"
    assert after_call(policy, s, ok=True, now=12.6) == BreakerState()


def test_registry_maps_message_types_to_consumers() -> None:
    noop = lambda messages, uow, ports: None  # noqa: E731
    registry = Registry(
        [
            Handler("a", TimeEntryApproved, handle=noop),
            Handler("b", TimeEntryApproved, handle=noop),
            Handler("c", GenerateInvoice, handle=noop),
        ]
    )
    assert registry.subscriptions == {"TimeEntryApproved": ["a", "b"], "GenerateInvoice": ["c"]}
    with pytest.raises(ValueError, match="twice"):
        Registry([Handler("a", TimeEntryApproved, handle=noop), Handler("a", GenerateInvoice, handle=noop)])
    with pytest.raises(ValueError, match="either"):
        Handler("x", TimeEntryApproved)


def test_a_retry_after_holds_every_call_to_the_system_for_that_long() -> None:
    policy = BreakerPolicy(threshold=5, cooldown=30)
    s = hold(policy, after_call(policy, BreakerState(), ok=False, now=100.0), now=100.0, seconds=2)
    assert before_call(policy, s, 101.0)[1] == pytest.approx(1.0)  # no call until Retry-After passed
    s, wait = before_call(policy, s, 102.0)
    assert (s.state, wait) == ("half_open", 0)
    assert after_call(policy, s, ok=True, now=102.1) == BreakerState()
    # An open circuit stays open at least as long as it was going to.
    opened = BreakerState("open", 5, 100.0)
    assert before_call(policy, hold(policy, opened, now=100.0, seconds=2), 110.0)[1] == pytest.approx(20.0)
