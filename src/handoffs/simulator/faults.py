"""Fault injection for simulated systems: named profiles, explicit settings, a fired-fault ledger.

Transport faults (outage, latency, timeout, throttling, lost acknowledgement) are applied by
an HTTP middleware; payload faults (duplicates, malformed or incomplete records, out-of-order
updates, schema drift) by each system's list endpoints through :meth:`FaultInjector.mangle`.
Every decision draws from a random stream seeded with ``"{seed}:{system}:{fault}"``, so a
given request sequence always meets the same faults; every fault that fires is counted.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["PROFILES", "Drift", "FaultInjector", "FaultSettings", "fault_settings"]


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """What can go wrong, and how often (rates are probabilities per request or record)."""

    outage_rate: float = 0.0
    outage_windows: tuple[tuple[int, int], ...] = ()  # inclusive request-number ranges answered 503
    latency_rate: float = 0.0
    latency_ms: int = 0
    timeout_rate: float = 0.0
    timeout_seconds: float = 5.0
    throttle_rate: float = 0.0  # random 429s with Retry-After
    retry_after_seconds: int = 1
    documented_limits: bool = False  # enforce the real API's documented rate or concurrency limit
    rate_limit: tuple[int, float] | None = None  # explicit (requests, per seconds)
    duplicate_rate: float = 0.0
    malformed_rate: float = 0.0
    incomplete_rate: float = 0.0
    lost_ack_rate: float = 0.0
    out_of_order_rate: float = 0.0
    schema_drift: bool = False
    # A write that completes on the server after the client gave up: the request waits
    # ``slow_write_seconds`` (longer than a client's read timeout) and only then is applied.
    slow_write_rate: float = 0.0
    slow_write_seconds: float = 2.0
    token_lifetime_seconds: float | None = None  # shorten the system's access-token lifetime
    # Odoo: two workers posting drafts of one journal at once clash on the sequence name
    # ("Another entry with the same name already exists."); two first logins at once fail on
    # a unique constraint.
    sequence_clash_rate: float = 0.0
    login_race_rate: float = 0.0


PROFILES: Final[dict[str, FaultSettings]] = {
    "none": FaultSettings(),
    "default": FaultSettings(
        outage_rate=0.01,
        latency_rate=0.05,
        latency_ms=20,
        documented_limits=True,
        duplicate_rate=0.01,
        malformed_rate=0.005,
        incomplete_rate=0.005,
        lost_ack_rate=0.01,
        out_of_order_rate=0.02,
    ),
    "month-end": FaultSettings(
        outage_rate=0.03,
        outage_windows=((40, 45),),
        latency_rate=0.2,
        latency_ms=150,
        timeout_rate=0.01,
        timeout_seconds=3.0,
        throttle_rate=0.08,
        retry_after_seconds=2,
        documented_limits=True,
        duplicate_rate=0.03,
        malformed_rate=0.01,
        incomplete_rate=0.01,
        lost_ack_rate=0.03,
        out_of_order_rate=0.05,
    ),
    "hostile": FaultSettings(
        outage_rate=0.1,
        outage_windows=((10, 14),),
        latency_rate=0.25,
        latency_ms=300,
        timeout_rate=0.03,
        timeout_seconds=3.0,
        throttle_rate=0.15,
        retry_after_seconds=2,
        documented_limits=True,
        duplicate_rate=0.1,
        malformed_rate=0.05,
        incomplete_rate=0.05,
        lost_ack_rate=0.1,
        out_of_order_rate=0.15,
        schema_drift=True,
    ),
}


def fault_settings(profile: str | FaultSettings = "none", **overrides: Any) -> FaultSettings:
    """A named profile (or given settings) with explicit overrides applied."""
    base = profile if isinstance(profile, FaultSettings) else PROFILES.get(profile)
    if base is None:
        raise ValueError(f"unknown fault profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return dataclasses.replace(base, **overrides) if overrides else base


@dataclass(frozen=True, slots=True)
class Drift:
    """How one system's records change shape: payload faults need to know its fields."""

    key: str  # the record's identifier field
    renamed: dict[str, str] = field(default_factory=dict)  # schema drift: old name -> new name
    added: dict[str, Any] = field(default_factory=dict)  # schema drift: new fields
    droppable: tuple[str, ...] = ()  # incomplete records lose one of these
    malform: Callable[[dict[str, Any]], None] | None = None  # corrupts one field in place


class FaultInjector:
    """Decides which faults fire for a system, and remembers every one that did."""

    def __init__(
        self,
        system: str,
        settings: FaultSettings,
        seed: int = 0,
        documented_limit: tuple[int, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.system, self.settings, self.seed, self.clock = system, settings, seed, clock
        limit = settings.rate_limit or (documented_limit if settings.documented_limits else None)
        self.rate_limit = limit
        self.fired: Counter[str] = Counter()
        self.log: list[dict[str, Any]] = []
        self.requests = 0
        self.arrivals: list[float] = []  # clock reading of each request, so a test can time retries
        self._streams: dict[str, random.Random] = {}
        self._window_start: float | None = None
        self._window_count = 0

    def roll(self, kind: str, rate: float) -> bool:
        """Whether the ``kind`` fault fires now (its own deterministic stream)."""
        if rate <= 0:
            return False
        stream = self._streams.get(kind)
        if stream is None:
            stream = self._streams[kind] = random.Random(f"{self.seed}:{self.system}:{kind}")
        return stream.random() < rate

    def record(self, kind: str, **detail: Any) -> None:
        self.fired[kind] += 1
        self.log.append({"fault": kind, "request": self.requests, **detail})

    def next_request(self) -> int:
        self.requests += 1
        self.arrivals.append(self.clock())
        return self.requests

    def in_outage(self, number: int) -> bool:
        windowed = any(lo <= number <= hi for lo, hi in self.settings.outage_windows)
        return windowed or self.roll("outage", self.settings.outage_rate)

    def throttled(self) -> int | None:
        """Seconds to wait if this request is over the rate limit (or randomly throttled)."""
        if self.rate_limit is not None:
            limit, per = self.rate_limit
            now = self.clock()
            if self._window_start is None or now - self._window_start >= per:
                self._window_start, self._window_count = now, 0
            self._window_count += 1
            if self._window_count > limit:
                return max(1, math.ceil(self._window_start + per - now))
        if self.roll("throttle", self.settings.throttle_rate):
            return self.settings.retry_after_seconds
        return None

    def mangle(self, records: list[dict[str, Any]], drift: Drift) -> list[dict[str, Any]]:
        """Apply payload faults to a page of records (copies; the system's state is untouched)."""
        s = self.settings
        out: list[dict[str, Any]] = []
        for original in records:
            record = dict(original)
            key = record.get(drift.key)
            if drift.malform is not None and self.roll("malformed", s.malformed_rate):
                drift.malform(record)
                self.record("malformed", id=key)
            if drift.droppable and self.roll("incomplete", s.incomplete_rate):
                record.pop(drift.droppable[0], None)
                self.record("incomplete", id=key, missing=drift.droppable[0])
            if s.schema_drift and (drift.renamed or drift.added):
                for old, new in drift.renamed.items():
                    if old in record:
                        record[new] = record.pop(old)
                record.update(drift.added)
                self.record("schema_drift", id=key)
            out.append(record)
            if self.roll("duplicate", s.duplicate_rate):
                out.append(dict(record))
                self.record("duplicate", id=key)
        for i in range(len(out) - 1):
            if self.roll("out_of_order", s.out_of_order_rate):
                out[i], out[i + 1] = out[i + 1], out[i]
                self.record("out_of_order", id=out[i].get(drift.key))
        return out
