"""Prometheus metrics of the engine and the connectors, on a registry of their own.

The registry is made by the composition root (never at import), so each application (and
each test) has its own; ``handoffs worker --metrics-port`` and the API's ``/metrics`` serve it.
What the store knows (open exceptions by business priority, failed transformations, lag)
comes from :mod:`handoffs.telemetry.store_metrics`, read when scraped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import choose_encoder

__all__ = ["CIRCUIT_STATES", "Metrics"]

CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}


class Metrics:
    """Every metric Handoffs exports (names are ``handoffs_*``)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._store: Any = None
        r = self.registry
        self.message_latency = Histogram(
            "handoffs_message_latency_seconds",
            "From a message being stored to a consumer finishing it.",
            ["consumer"],
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.messages = Counter(
            "handoffs_messages_total",
            "Messages handled per consumer and outcome.",
            ["consumer", "outcome"],
            registry=r,
        )
        self.duplicates = Counter(
            "handoffs_duplicates_dropped_total",
            "Messages a consumer had already applied (inbox hit).",
            ["consumer"],
            registry=r,
        )
        self.dead_letters = Counter(
            "handoffs_dead_letters_total",
            "Messages that became exceptions.",
            ["consumer", "category"],
            registry=r,
        )
        self.calls = Counter(
            "handoffs_system_calls_total",
            "Calls to connected systems by outcome.",
            ["system", "outcome"],
            registry=r,
        )
        self.throttle_wait = Counter(
            "handoffs_throttle_wait_seconds_total",
            "Seconds spent waiting for a system's rate limit.",
            ["system"],
            registry=r,
        )
        self.circuit = Gauge(
            "handoffs_circuit_state",
            "Circuit breaker per system: 0 closed, 1 half-open, 2 open.",
            ["system"],
            registry=r,
        )
        self.reconciliation_breaks = Gauge(
            "handoffs_reconciliation_breaks",
            "Breaks found by the controls after the last worker batch that billed, by variance code.",
            ["code", "explained"],
            registry=r,
        )
        self.reconciliation_opened = Counter(
            "handoffs_reconciliation_breaks_opened_total",
            "Unexplained reconciliation breaks that became exceptions, by variance code.",
            ["code"],
            registry=r,
        )
        self.queue_depth = Gauge("handoffs_queue_depth", "Work items pending or leased.", registry=r)

    def watch_store(self, uow_factory: Callable[[], Any], ttl: float = 15.0) -> None:
        """Also export what the store knows (open exceptions, money at risk, lag), read when scraped."""
        from handoffs.telemetry.store_metrics import StoreCollector

        if self._store is None:
            self._store = StoreCollector(uow_factory, ttl)
            self.registry.register(self._store)

    def render(self) -> bytes:
        """The text exposition format, for ``/metrics``."""
        return generate_latest(self.registry)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The body and content type for a scrape with this ``Accept`` header.

        Negotiated by prometheus-client as its own HTTP server (``worker --metrics-port``)
        does, so the API's ``/metrics`` and a worker's answer alike.
        """
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
