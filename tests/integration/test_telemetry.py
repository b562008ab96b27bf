"""Metrics and traces of a real flow (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import yaml
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import insert, select

from handoffs.bootstrap import App
from handoffs.connectors.fake.erp import ErpFaults, InMemoryErp
from handoffs.flows.opportunity_to_project import win_opportunity
from handoffs.store.tables import work_queue
from handoffs.telemetry.tracing import Tracing, trace_id_for
from tests.policies.test_upstream_flows import ContractErp
from tests.support.flow import drain, firm_lines, load

DEAL_TERMS = {
    "customer": {"name": "Trace Ltd", "legal_entity_id": "LE-US", "currency": "USD"},
    "contract": {
        "legal_entity_id": "LE-US",
        "currency": "USD",
        "billing_model": "time_and_materials",
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
        "rate_card": [{"version": 1, "effective_from": "2026-01-01", "rates": {"consultant": "150.00"}}],
    },
    "project": {"name": "Trace rollout"},
}


def _work(project: str) -> list[str]:
    """A consultant staffed on the project and three approved days of January."""
    records: list[dict[str, object]] = [
        {
            "type": "resource",
            "id": "R-T1",
            "name": "Consultant T1",
            "legal_entity_id": "LE-US",
            "role": "consultant",
            "cost_rate": {"amount": "70.00", "currency": "USD"},
            "weekly_capacity_hours": "40",
        },
        {
            "type": "assignment",
            "id": "A-T1",
            "project_id": project,
            "resource_id": "R-T1",
            "role": "consultant",
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "hours_per_week": "40",
        },
    ]
    for day in (5, 6, 7):
        records.append(
            {
                "type": "time_entry",
                "id": f"TE-T{day}",
                "resource_id": "R-T1",
                "project_id": project,
                "work_date": f"2026-01-{day:02d}",
                "hours": "8",
                "assignment_id": "A-T1",
                "billable": True,
                "status": "approved",
                "approved_by": "M-1",
                "approved_at": "2026-01-31T18:00:00+00:00",
                "source_system": "timesheets",
                "source_version": 1,
            }
        )
    return [orjson.dumps(r).decode() for r in records]


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
        "write-back.invoiced",  # the posted invoice is offered to the write-backs (none set here)
    }
    assert {s.context.trace_id for s in spans} == {trace_id_for("project:P-001")}
    other = {
        s.context.trace_id
        for s in exporter.get_finished_spans()
        if s.attributes.get("handoffs.correlation_id") == "project:P-002"
    }
    assert other == {trace_id_for("project:P-002")} != {trace_id_for("project:P-001")}


def test_a_won_deal_to_its_posted_invoice_is_one_connected_trace(hub: App) -> None:
    exporter = InMemorySpanExporter()
    hub.tracing = Tracing(SimpleSpanProcessor(exporter))
    hub.ports.erps.clear()
    hub.ports.erps["erp"] = ContractErp()
    load(hub, [x for x in firm_lines(entries=1, projects=1) if '"legal_entity"' in x or '"tax_code"' in x])
    with hub.uow() as uow:  # the CRM says the deal is won
        assert win_opportunity(uow, hub.ports, {"Id": "006T", "IsWon": True}, "crm", DEAL_TERMS)
        uow.commit()
    drain(hub)  # customer, contract, project shell; the contract's metadata to the ERP
    load(hub, _work("P-006T"))  # staffing and approved time from the PSA
    drain(hub)  # priced, invoiced, journal, posted
    with hub.uow() as uow:
        [(invoice, _)] = list(uow.invoices.iter_all())
        assert invoice.project_id == "P-006T" and uow.invoices.status(invoice.id) == "posted"

    trace_id = trace_id_for("project:P-006T")
    spans = exporter.get_finished_spans()
    deal = [s for s in spans if "006T" in str(s.attributes.get("handoffs.correlation_id"))]
    assert [s.name for s in deal if s.name.startswith("opportunity-to-project.")], "the won deal has no span"
    assert {s.name for s in deal} >= {
        "opportunity-to-project.open",
        "opportunity-to-project.sync-contract",
        "time-to-invoice.price",
        "time-to-invoice.invoice",
        "time-to-invoice.deliver",
        "time-to-invoice.post",
    }
    assert {s.context.trace_id for s in deal} == {trace_id}  # one trace, from the deal to the posting
    assert {(s.parent.trace_id, s.parent.span_id) for s in deal if s.parent} == {
        (trace_id, deal[0].parent.span_id if deal[0].parent else 0)
    }  # every span hangs from the flow's root: one connected tree
    assert all(s.parent is not None for s in deal)


def test_the_alert_rules_load_and_name_only_metrics_the_hub_exports(hub: App) -> None:
    rules_file = Path(__file__).parents[2] / "deploy" / "prometheus-rules.yml"
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    exported: set[str] = set()
    for family in hub.metrics.registry.collect():
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_count", "_sum"),
        }.get(family.type, ("",))
        exported |= {family.name + s for s in suffixes}
    rules = [r for g in groups for r in g["rules"]]
    alerts = {r["alert"] for r in rules}
    assert {"HandoffsPriorityOneExceptions", "HandoffsWorkNotPickedUp", "HandoffsLag"} <= alerts
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]
        named = set(re.findall(r"\bhandoffs_[a-z_]+", rule["expr"]))
        assert named and named <= exported, (rule["alert"], named - exported)
    runbooks = {r["annotations"]["runbook"].split("#")[0] for r in rules if "runbook" in r["annotations"]}
    assert all((rules_file.parents[1] / path).is_file() for path in runbooks)
