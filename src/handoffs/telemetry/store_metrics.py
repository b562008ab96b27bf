"""Metrics read from the store when scraped: the same numbers from any process.

Workers count what they do in memory (latency, retries, calls). What a person acts on lives
in the database, shared by every process, so it is read there on each scrape (at most every
``ttl`` seconds): open exceptions by category and business priority, their money at risk, the
failed transformations (exceptions are kept forever, so their count only grows), and the lag
of the oldest work item that is due and not yet taken.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from handoffs.store.tables import exceptions, work_queue

__all__ = ["OPEN_STATES", "StoreCollector"]

OPEN_STATES = ("open", "in_progress", "retrying")
TRANSFORMATIONS = ("validation", "mapping", "ownership")
_PROCESSING = ("consumer", "billing", "control", "flow")  # failures after the record was stored


class StoreCollector(Collector):
    """A Prometheus collector over a unit-of-work factory."""

    def __init__(
        self, uow_factory: Callable[[], Any], ttl: float = 15.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._uow = uow_factory
        self._ttl = ttl
        self._clock = clock
        self._cache: tuple[float, list[Any]] | None = None

    def describe(self) -> list[Any]:
        return []  # no database read when the collector is registered

    def collect(self) -> Iterator[Any]:
        now = self._clock()
        if self._cache is None or now - self._cache[0] >= self._ttl:
            self._cache = (now, self._read())
        yield from self._cache[1]

    def _read(self) -> list[Any]:
        from handoffs.flows.triage import queue

        open_ = GaugeMetricFamily(
            "handoffs_exceptions_open",
            "Exceptions open, in progress or retrying, by category and business priority (1 is most urgent).",
            labels=["category", "priority"],
        )
        money = GaugeMetricFamily(
            "handoffs_exceptions_money_at_risk",
            "Money held up by open exceptions, by business priority and currency.",
            labels=["priority", "currency"],
        )
        failed = CounterMetricFamily(
            "handoffs_failed_transformations",
            "Records that failed decoding, mapping, validation or ownership on the way in, by source kind.",
            labels=["source"],
        )
        lag = GaugeMetricFamily(
            "handoffs_queue_lag_seconds",
            "How long the oldest work item that is due has been waiting (0 when none is).",
        )
        with self._uow() as uow:
            counts: Counter[tuple[str, str]] = Counter()
            at_risk: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
            for state in OPEN_STATES:
                for item in queue(uow, state=state, sort="id").items:
                    counts[(item.exception.category, str(item.priority))] += 1
                    if item.money_at_risk is not None:
                        at_risk[(str(item.priority), item.money_at_risk.currency)] += (
                            item.money_at_risk.amount
                        )
            rows = uow.connection.execute(
                select(exceptions.c.source, func.count())
                .where(exceptions.c.category.in_(TRANSFORMATIONS))
                .group_by(exceptions.c.source)
            )
            kinds: Counter[str] = Counter()
            for source, n in rows:
                kind = str(source).split(":", 1)[0].split(" ", 1)[0]
                if kind not in _PROCESSING:
                    kinds[kind] += int(n)
            now_s = uow.now.timestamp()
            oldest = uow.connection.execute(
                select(func.min(work_queue.c.available_at)).where(
                    work_queue.c.status == "pending", work_queue.c.available_at <= now_s
                )
            ).scalar_one_or_none()
        for (category, priority), n in sorted(counts.items()):
            open_.add_metric([category, priority], n)
        for (priority, currency), amount in sorted(at_risk.items()):
            money.add_metric([priority, currency], float(amount))  # exposition format is float
        for kind, n in sorted(kinds.items()):
            failed.add_metric([kind], n)
        lag.add_metric([], max(0.0, now_s - oldest) if oldest is not None else 0.0)
        return [open_, money, failed, lag]
