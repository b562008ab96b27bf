"""``GET /metrics`` after a small flow: every metric family the hub documents has a sample."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select

from handoffs.api import create_app
from handoffs.bootstrap import App
from handoffs.connectors.fake.erp import ErpFaults, InMemoryErp
from handoffs.engine.errors import TerminalError
from handoffs.engine.guard import SystemGuard
from handoffs.engine.ratelimit import RateLimit
from handoffs.store.tables import work_queue
from tests.api.conftest import auth, make_key
from tests.support.flow import drain, firm_lines, load

FAMILIES = {
    "handoffs_message_latency_seconds": "histogram",
    "handoffs_messages": "counter",
    "handoffs_duplicates_dropped": "counter",
    "handoffs_dead_letters": "counter",
    "handoffs_failed_transformations": "counter",
    "handoffs_system_calls": "counter",
    "handoffs_throttle_wait_seconds": "counter",
    "handoffs_circuit_state": "gauge",
    "handoffs_reconciliation_breaks": "gauge",
    "handoffs_queue_depth": "gauge",
    "handoffs_queue_lag_seconds": "gauge",
    "handoffs_exceptions_open": "gauge",
    "handoffs_exceptions_money_at_risk": "gauge",
}


class RefusingErp(InMemoryErp):
    """A second ERP that refuses every invoice: terminal, so its postings are dead-lettered."""

    def post_invoice(self, invoice, key):  # type: ignore[no-untyped-def]
        raise TerminalError(f"refused invoice {invoice.id}: unknown customer")


def test_metrics_after_a_small_flow_has_every_family(hub: App) -> None:
    hub.ports.erps.clear()
    hub.ports.erps |= {"erp": InMemoryErp(faults=ErpFaults(lost_ack_rate=0.5, seed=3)), "zz": RefusingErp()}
    hub.ports.guard = SystemGuard(  # one token at a time: the second posting waits for the bucket
        hub.engine, {"erp": RateLimit(rate=1, burst=1)}, metrics=hub.metrics, max_wait=5.0
    )
    lines = firm_lines(entries=60, projects=2)
    bad = orjson.loads(next(x for x in lines if '"TE-00000001"' in x))
    bad["role"] = "astronaut"  # no rate: dead-lettered when priced
    lines = [orjson.dumps(bad).decode() if '"TE-00000001"' in x else x for x in lines]
    load(hub, [*lines, '{"type": "time_entry", "id": "broken"'])  # one line that is not JSON
    drain(hub)
    with hub.uow() as uow:  # a message offered to its consumer twice
        row = uow.connection.execute(select(work_queue).where(work_queue.c.status == "done").limit(1))
        copy = {k: v for k, v in row.mappings().one().items() if k != "id"}
        uow.connection.execute(insert(work_queue).values(copy | {"status": "pending", "attempts": 0}))
        uow.commit()
    drain(hub)

    metrics_key = make_key(hub, "prometheus", ["metrics:read"], rate=100, burst=100)
    portal = make_key(hub, "uk-portal", ["metrics:read"], entities=["LE-UK"], rate=100, burst=100)
    with TestClient(create_app(hub), raise_server_exceptions=False) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers=auth(portal)).status_code == 403  # firm-wide numbers
        response = http.get("/metrics", headers=auth(metrics_key))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    for name, kind in FAMILIES.items():
        assert name in families and families[name].type == kind, name
        assert families[name].samples, f"{name} has no sample"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples
    }
    assert (
        samples[
            (
                "handoffs_dead_letters_total",
                (("category", "dead_letter"), ("consumer", "time-to-invoice.post")),
            )
        ]
        == 2
    )
    assert samples[("handoffs_failed_transformations_total", (("source", "file"),))] == 1
    assert samples[("handoffs_duplicates_dropped_total", (("consumer", copy["consumer"]),))] == 1
    assert samples[("handoffs_system_calls_total", (("outcome", "terminal"), ("system", "zz")))] == 2
    assert samples[("handoffs_throttle_wait_seconds_total", (("system", "erp"),))] > 0
    money = [
        s for s in families["handoffs_exceptions_money_at_risk"].samples if s.labels["currency"] == "USD"
    ]
    assert money and sum(s.value for s in money) > 0  # the two refused invoices


def test_the_api_and_a_worker_send_the_same_exposition_content_type(hub: App) -> None:
    """Both metrics endpoints negotiate the format alike, whatever the scraper accepts."""
    import httpx
    from prometheus_client import start_http_server

    from tests.api.servers import free_port

    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=hub.metrics.registry)
    key = make_key(hub, "prometheus", ["metrics:read"], rate=100, burst=100)
    openmetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    try:
        with TestClient(create_app(hub), raise_server_exceptions=False) as http:
            for accept in (None, "text/plain;version=1.0.0", openmetrics, "*/*"):
                headers = {} if accept is None else {"Accept": accept}
                api = http.get("/metrics", headers={**auth(key), **headers})
                worker = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=headers)
                assert api.status_code == worker.status_code == 200
                assert api.headers["content-type"] == worker.headers["content-type"], accept
    finally:
        server.shutdown()
        thread.join(5)
