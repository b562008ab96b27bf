"""Metrics and traces of a real flow (SQLite and PostgreSQL)."""

from __future__ import annotations

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import insert, select

from handoffs.bootstrap import App
from handoffs.connectors.fake.erp import ErpFaults, InMemoryErp
from handoffs.store.tables import work_queue
from handoffs.telemetry.tracing import Tracing, trace_id_for
from tests.support.flow import drain, firm_lines, load


def sample(hub: App, name: str, **labels: str) -> float:
    value = hub.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_metrics_count_messages_latency_calls_retries_and_duplicates(hub: App) -> None:
    hub.ports.erps["erp"] = InMemoryErp(faults=ErpFaults(lost_ack_rate=0.5, seed=2))
    load(hub, firm_lines(entries=200, projects=4))
    drain(hub)
    assert (
        sample(hub, "handoffs_messages_total", consumer="time-to-invoice.price", outcome="processed") == 200
    )
    assert sample(hub, "handoffs_message_latency_seconds_count", consumer="time-to-invoice.price") == 200
    assert sample(hub, "handoffs_messages_total", consumer="time-to-invoice.post", outcome="retried") >= 1
    assert sample(hub, "handoffs_system_calls_total", system="erp", outcome="ok") == 4
    assert sample(hub, "handoffs_system_calls_total", system="erp", outcome="transient") >= 1
    assert hub.metrics.registry.get_sample_value("handoffs_circuit_state", {"system": "erp"}) == 0
    with hub.uow() as uow:  # the same message offered to its consumer again
        row = uow.connection.execute(select(work_queue).limit(1)).mappings().one()
        copy = {k: v for k, v in row.items() if k != "id"} | {"status": "pending", "attempts": 0}
        uow.connection.execute(insert(work_queue).values(copy))
        uow.commit()
    drain(hub)
    assert sample(hub, "handoffs_duplicates_dropped_total", consumer=row["consumer"]) == 1
    text = hub.metrics.render().decode()
    for name in (
        "handoffs_message_latency_seconds",
        "handoffs_dead_letters_total",
        "handoffs_queue_depth",
        "handoffs_throttle_wait_seconds_total",
        "handoffs_failed_transformations_total",
    ):
        assert name in text


def test_one_projects_flow_is_one_connected_trace(hub: App) -> None:
    exporter = InMemorySpanExporter()
    hub.tracing = Tracing(SimpleSpanProcessor(exporter))
    load(hub, firm_lines(entries=60, projects=2))
    drain(hub)
    spans = [
        s
        for s in exporter.get_finished_spans()
        if s.attributes.get("handoffs.correlation_id") == "project:P-001"
    ]
    assert {s.name for s in spans} == {
        "time-to-invoice.price",
        "time-to-invoice.invoice",
        "time-to-invoice.deliver",
        "time-to-invoice.post",
    }
    assert {s.context.trace_id for s in spans} == {trace_id_for("project:P-001")}
    other = {
        s.context.trace_id
        for s in exporter.get_finished_spans()
        if s.attributes.get("handoffs.correlation_id") == "project:P-002"
    }
    assert other == {trace_id_for("project:P-002")} != {trace_id_for("project:P-001")}
