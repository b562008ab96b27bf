"""The worker: claim a batch, run each consumer's handler, retry or dead-letter failures.

Exactly-once effects come from three things together: the inbox row written in the same
transaction as a handler's effects, leases that expire so a killed worker's batch is taken
over, and outbound calls that carry an idempotency key the receiving system honours.
"""

from __future__ import annotations

import os
import random
import socket
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy.exc import DBAPIError

from handoffs.domain.errors import DomainError
from handoffs.engine.errors import HandoffsFailure, TerminalError, TransientError
from handoffs.engine.registry import Handler, Registry
from handoffs.engine.retry import Backoff
from handoffs.store.repositories.messages import WorkItem
from handoffs.store.serde import message_from_json
from handoffs.store.uow import UowFactory
from handoffs.telemetry.logs import get_logger
from handoffs.telemetry.metrics import Metrics
from handoffs.telemetry.tracing import Tracing

__all__ = ["Worker", "WorkerSettings", "WorkerStats"]

log = get_logger("handoffs.worker")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    batch_size: int = 500
    lease_seconds: float = 60.0
    idle_sleep: float = 0.2
    backoff: Backoff = field(default_factory=Backoff)


@dataclass(slots=True)
class WorkerStats:
    processed: int = 0
    retried: int = 0
    dead: int = 0
    batches: int = 0
    db_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "processed": self.processed,
            "retried": self.retried,
            "dead": self.dead,
            "batches": self.batches,
            "db_errors": self.db_errors,
        }


PROGRESS_COUNT_S = 2.0


class Worker:
    """Runs handlers for claimed work until stopped (or, with ``until_idle``, until no work is left)."""

    def __init__(
        self,
        uow_factory: UowFactory,
        registry: Registry,
        ports: Any,
        settings: WorkerSettings | None = None,
        *,
        owner: str | None = None,
        rng: random.Random | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        after_batch: Callable[[list[WorkItem]], object] | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._tracing = tracing or Tracing()
        self._after_batch = after_batch  # e.g. the billing controls (reconcile/after_batch.py)
        self._uow = uow_factory
        self._registry = registry
        self._ports = ports
        self.settings = settings or WorkerSettings()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._rng = rng or random.Random()
        self._now = now
        self._sleep = sleep
        self.stats = WorkerStats()
        self._counted: tuple[float, int] | None = None  # (next count due, queue depth) for progress

    def run(
        self,
        *,
        until_idle: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
        on_batch: Callable[[WorkerStats, int], None] | None = None,
    ) -> WorkerStats:
        """Process batches; ``on_batch(stats, outstanding)`` is called after each one."""
        while not should_stop():
            try:
                done = self.run_once()
                if done:
                    if on_batch:
                        on_batch(self.stats, self._queued())
                    continue
                outstanding, due = self.outstanding()
            except DBAPIError:  # the database went away: leases expire, so just wait and go on
                self.stats.db_errors += 1
                self._sleep(min(5.0, 0.5 * self.stats.db_errors))
                continue
            if until_idle and outstanding == 0:
                break
            wait = self.settings.idle_sleep
            if due is not None:
                wait = min(max(due - self._now(), 0.01), 1.0)
            self._sleep(wait)
        return self.stats

    def _queued(self) -> int:
        """The queue depth for progress, counted at most every ``PROGRESS_COUNT_S`` seconds and
        never for more than a twentieth of the worker's time.

        A count reads every queued row: after each batch of a ten-million-item backfill it took
        four fifths of the worker's time, and every 2 s still a third.
        """
        now = time.monotonic()
        if self._counted is None or now >= self._counted[0]:
            depth = self.outstanding()[0]
            took = time.monotonic() - now
            self._counted = (now + max(PROGRESS_COUNT_S, 20 * took), depth)
        return self._counted[1]

    def outstanding(self) -> tuple[int, float | None]:
        with self._uow() as uow:
            count, due = uow.queue.outstanding()
        self._metrics.queue_depth.set(count)
        return count, due

    def run_once(self) -> int:
        """Claim and process one batch; returns how many items it held."""
        with self._uow() as uow:
            items = uow.queue.claim(
                self.owner, self.settings.batch_size, self.settings.lease_seconds, self._now()
            )
            uow.commit()
        if not items:
            return 0
        self.stats.batches += 1
        for consumer, group in groupby(items, key=lambda i: i.consumer):
            handler = self._registry.handler(consumer)
            batch = list(group)
            if handler.outbound:
                for item in batch:
                    self._outbound(handler, item)
            else:
                self._local(handler, batch)
        if self._after_batch is not None:
            self._after_batch(items)
        return len(items)

    def _local(self, handler: Handler, items: list[WorkItem]) -> None:
        assert handler.handle is not None
        try:
            with self._uow() as uow, ExitStack() as spans:
                seen = uow.inbox.seen(handler.consumer, [i.inbox_key for i in items])
                todo = [i for i in items if i.inbox_key not in seen]
                for correlation in sorted({i.correlation_id for i in todo}):
                    spans.enter_context(
                        self._tracing.flow_span(handler.consumer, correlation, messages=len(todo))
                    )
                if todo:
                    handler.handle([_message(i) for i in todo], uow, self._ports)
                    uow.inbox.record(handler.consumer, [i.inbox_key for i in todo])
                uow.queue.complete([i.id for i in items], self.owner)
                uow.exceptions.resolve_retried([i.id for i in items if i.attempts])
                uow.commit()
            self.stats.processed += len(items)
            self._observe(handler.consumer, todo, len(items) - len(todo))
        except Exception as exc:
            if len(items) > 1:  # isolate the failing message; the others still flow
                for item in items:
                    self._local(handler, [item])
            else:
                self._failed(handler, items[0], exc)

    def _outbound(self, handler: Handler, item: WorkItem) -> None:
        assert handler.call is not None and handler.record is not None
        try:
            with self._uow() as uow:
                already = bool(uow.inbox.seen(handler.consumer, [item.inbox_key]))
            message = _message(item)
            with self._tracing.flow_span(handler.consumer, item.correlation_id, outbound=True):
                outcome = None if already else handler.call(message, self._uow, self._ports)
            with self._uow() as uow:
                if not already and not uow.inbox.seen(handler.consumer, [item.inbox_key]):
                    handler.record(message, outcome, uow, self._ports)
                    uow.inbox.record(handler.consumer, [item.inbox_key])
                uow.queue.complete([item.id], self.owner)
                uow.exceptions.resolve_retried([item.id] if item.attempts else [])
                uow.commit()
            self.stats.processed += 1
            self._observe(handler.consumer, [] if already else [item], 1 if already else 0)
        except Exception as exc:
            self._failed(handler, item, exc)

    def _failed(self, handler: Handler, item: WorkItem, exc: Exception) -> None:
        attempts = item.attempts + 1
        reason = _describe(exc)
        # A unique-key violation is a race with another worker; the retry sees its result.
        terminal = isinstance(exc, TerminalError | DomainError)
        if not terminal and not self.settings.backoff.exhausted(attempts):
            retry_after = exc.retry_after if isinstance(exc, TransientError) else None
            delay = self.settings.backoff.delay(attempts, self._rng, retry_after)
            with self._uow() as uow:
                uow.queue.retry_later(item.id, attempts, self._now() + delay, reason)
                uow.commit()
            self.stats.retried += 1
            self._metrics.messages.labels(handler.consumer, "retried").inc()
            log.info(
                "retry",
                consumer=handler.consumer,
                correlation_id=item.correlation_id,
                attempts=attempts,
                delay_s=round(delay, 3),
                reason=reason,
            )
            return
        with self._uow() as uow:
            uow.queue.dead(item.id, attempts, reason)
            if uow.exceptions.reopen_retried(item.id, reason, attempts):
                uow.commit()
                self.stats.dead += 1
                self._dead(handler.consumer, item, exc, terminal, reason)
                return
            uow.exceptions.add(
                category=_category(exc, terminal),
                source=f"consumer:{handler.consumer}",
                reason=reason,
                raw=item.payload,
                detail={
                    "message_type": item.type,
                    "attempts": attempts,
                    "error_class": type(exc).__name__,
                    "replay": item.replay,
                    "where": _where(exc),
                },
                priority=2 if handler.outbound else 3,
                message_id=item.message_id,
                consumer=handler.consumer,
                work_id=item.id,
                attempts=attempts,
            )
            if handler.on_dead is not None:
                handler.on_dead(_message(item), reason, uow, self._ports)
            uow.commit()
        self.stats.dead += 1
        self._dead(handler.consumer, item, exc, terminal, reason)

    def _dead(self, consumer: str, item: WorkItem, exc: Exception, terminal: bool, reason: str) -> None:
        category = _category(exc, terminal)
        self._metrics.messages.labels(consumer, "dead").inc()
        self._metrics.dead_letters.labels(consumer, category).inc()
        log.warning(
            "dead_letter",
            consumer=consumer,
            correlation_id=item.correlation_id,
            category=category,
            message_id=item.message_id,
            reason=reason,
        )

    def _observe(self, consumer: str, done: list[WorkItem], duplicates: int) -> None:
        now = self._now()
        for item in done:
            if item.recorded_at is not None:
                self._metrics.message_latency.labels(consumer).observe(
                    max(0.0, now - item.recorded_at.timestamp())
                )
        if done:
            self._metrics.messages.labels(consumer, "processed").inc(len(done))
        if duplicates:
            self._metrics.duplicates.labels(consumer).inc(duplicates)


def _message(item: WorkItem) -> Any:
    return message_from_json(item.type, item.payload)


def _describe(exc: Exception) -> str:
    if isinstance(exc, HandoffsFailure | DomainError):
        return str(exc)
    if isinstance(exc, DBAPIError):  # driver messages can echo SQL parameters: keep the class only
        return f"database error: {type(exc.orig).__name__ if exc.orig else type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"


def _category(exc: Exception, terminal: bool) -> str:
    if isinstance(exc, HandoffsFailure) and exc.category not in ("terminal", "transient", "failure"):
        return exc.category
    if isinstance(exc, DomainError):
        return "validation"
    return "dead_letter" if terminal else "retries_exhausted"


def _where(exc: Exception) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno} in {last.name}"
