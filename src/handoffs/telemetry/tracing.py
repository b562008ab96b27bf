"""OpenTelemetry traces that follow one business flow by its correlation id.

Every span of a flow (pricing, billing, delivery, posting; on any worker, in any process)
gets the same trace id, derived from the correlation id, so a project's flow from
opportunity to posted invoice is one connected trace without carrying context in messages.
Exporting is off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (OTLP over HTTP), or a
processor is handed in (tests use an in-memory exporter).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

__all__ = ["Tracing", "trace_id_for"]


def trace_id_for(correlation_id: str) -> int:
    """The 128-bit trace id of a business flow."""
    return int.from_bytes(hashlib.sha256(correlation_id.encode()).digest()[:16], "big") or 1


def _parent_span_id(correlation_id: str) -> int:
    return int.from_bytes(hashlib.sha256(b"root:" + correlation_id.encode()).digest()[:8], "big") or 1


class Tracing:
    """A tracer provider of the application's own (the global one is left alone)."""

    def __init__(self, processor: SpanProcessor | None = None, service: str = "handoffs") -> None:
        self.provider: TracerProvider | None = None
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if processor is None and endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            processor = BatchSpanProcessor(OTLPSpanExporter())
        if processor is not None:
            self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
            self.provider.add_span_processor(processor)
        self._tracer = self.provider.get_tracer("handoffs") if self.provider else None

    @contextmanager
    def flow_span(self, name: str, correlation_id: str, **attributes: Any) -> Iterator[Any]:
        """A span in the trace of ``correlation_id`` (a no-op when tracing is off)."""
        if self._tracer is None:
            yield None
            return
        parent = SpanContext(
            trace_id=trace_id_for(correlation_id),
            span_id=_parent_span_id(correlation_id),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        context = trace.set_span_in_context(NonRecordingSpan(parent))
        with self._tracer.start_as_current_span(name, context=context) as span:
            span.set_attribute("handoffs.correlation_id", correlation_id)
            for key, value in attributes.items():
                span.set_attribute(f"handoffs.{key}", value)
            yield span

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()
